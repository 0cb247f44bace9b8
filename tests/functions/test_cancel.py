"""cancel: the provider is asked first; a cancelled node never receives a late result."""

from __future__ import annotations

import time

import httpx

from tests.functions.test_submit import assert_error
from tests.functions.test_webhook import completed, delivered, start
from tests.support import Canvas, Conn, FalSimulator, User, job_row, node_data, wait_for, wait_for_node


def cancel(api: httpx.Client, user: User, canvas: Canvas, node_id: str = "video-1") -> httpx.Response:
    return api.post("/cancel", json={"projectId": canvas.id, "nodeId": node_id}, headers=user.headers)


def test_cancel_stops_a_running_generation(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """A running job is cancelled at the provider; the job and the node show it."""
    answer = start(api, alice, project, prompt="long [sim:never_complete]")
    response = cancel(api, alice, project)
    assert response.status_code == 200, response.text
    assert response.json() == {"jobId": answer["jobId"], "status": "cancelled"}
    data = node_data(db, project.id, "video-1")
    assert data["status"] == "cancelled" and data["loading"] is False and "requestId" not in data
    assert job_row(db, answer["jobId"])["status"] == "cancelled"
    assert fal.request(answer["requestId"])["state"] == "CANCELLED"


def test_a_webhook_after_cancel_is_recorded_but_leaves_the_node(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """When the provider finishes anyway, the job keeps the result and the node stays cancelled."""
    answer = start(api, alice, project, prompt="stubborn [sim:ignore_cancel,delay=1]")
    assert cancel(api, alice, project).status_code == 200
    cancelled = node_data(db, project.id, "video-1")
    delivered(fal, answer["requestId"])
    job = wait_for(lambda: (j := job_row(db, answer["jobId"]))["result"] and j)
    assert job["status"] == "cancelled" and job["result"]["generated"]["url"]
    assert node_data(db, project.id, "video-1") == cancelled


def test_cancel_after_completion_conflicts_and_shows_the_result(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """ALREADY_COMPLETED answers 409 and the node gets its result without waiting for the webhook."""
    answer = start(api, alice, project, prompt="quick [sim:drop]")
    wait_for(lambda: fal.request(answer["requestId"])["state"] == "COMPLETED")
    assert_error(cancel(api, alice, project), 409, "already_completed")
    assert completed(node_data(db, project.id, "video-1"))


def test_cancel_refusals(api: httpx.Client, db: Conn, alice: User, bob: User, project: Canvas) -> None:
    """Nothing to cancel answers 409, another user's project 404, an unknown node 404, no token 401."""
    assert_error(cancel(api, alice, project), 409, "not_cancellable")
    assert_error(cancel(api, bob, project), 404, "project_not_found")
    assert_error(cancel(api, alice, project, node_id="ghost"), 404, "node_not_found")
    assert api.post("/cancel", json={"projectId": project.id, "nodeId": "video-1"}).status_code == 401
    assert_error(
        api.post("/cancel", json={"projectId": project.id}, headers=alice.headers), 400, "validation_failed"
    )


def test_cancelled_node_can_generate_again(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """After a cancel, a new submit is accepted and completes."""
    start(api, alice, project, prompt="first [sim:never_complete]")
    assert cancel(api, alice, project).status_code == 200
    time.sleep(0.1)
    start(api, alice, project, prompt="second")
    wait_for_node(db, project.id, "video-1", completed)
