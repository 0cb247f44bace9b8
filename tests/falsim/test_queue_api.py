"""The fal queue REST API: submit, status, result and cancel."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest

from canvasgen_stack.falsim.app import create_app
from canvasgen_stack.falsim.config import FalSimConfig

from .support import IMAGE_MODEL, VIDEO_MODEL, Receiver, Sim, serve_sim


def test_submit_answers_fal_shape_with_owner_alias_urls(sim: Sim) -> None:
    """Submit returns ids, absolute owner/alias queue URLs and a queue position."""
    job = sim.submitted("a cat")
    assert set(job) == {
        "request_id",
        "gateway_request_id",
        "response_url",
        "status_url",
        "cancel_url",
        "queue_position",
    }
    assert uuid.UUID(job["request_id"]).version == 4
    assert job["gateway_request_id"] == job["request_id"]
    response_url = f"{sim.url}/fal-ai/kling-video/requests/{job['request_id']}"
    assert job["response_url"] == response_url
    assert job["status_url"] == f"{response_url}/status"
    assert job["cancel_url"] == f"{response_url}/cancel"
    assert job["queue_position"] == 0


def test_queue_position_counts_jobs_ahead(sim: Sim) -> None:
    """Each queued job reports how many queued jobs were submitted before it."""
    positions = [sim.submitted(f"job {n}")["queue_position"] for n in range(3)]
    assert positions == [0, 1, 2]


@pytest.mark.parametrize("header", [None, "Key", "Bearer abc", "abc", "key abc"])
def test_submit_requires_key_authorization(sim: Sim, header: str | None) -> None:
    """Submit without `Authorization: Key <non-empty>` answers 401 with a detail."""
    headers = {"Authorization": header} if header is not None else {}
    response = sim.http.post(f"{sim.url}/{VIDEO_MODEL}", json={"prompt": "x"}, headers=headers)
    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)
    assert sim.http.get(f"{sim.url}/_sim/requests").json()["requests"] == []


def test_status_moves_from_queue_to_progress_to_completed(sim: Sim) -> None:
    """Status goes IN_QUEUE, then IN_PROGRESS, then COMPLETED, never backwards."""
    job = sim.submitted("a cat")
    seen: list[str] = []
    while not seen or seen[-1] != "COMPLETED":
        status = sim.status(job)
        if not seen or seen[-1] != status["status"]:
            seen.append(status["status"])
        time.sleep(0.01)
    assert seen == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]


def test_status_bodies_carry_fal_fields(sim: Sim) -> None:
    """Queued status has queue_position; in-progress has logs; completed has logs and metrics."""
    job = sim.submitted("a cat")
    queued = sim.status(job)
    assert queued["queue_position"] == 0 and queued["response_url"] == job["response_url"]
    running = sim.wait(job, "IN_PROGRESS")
    assert isinstance(running["logs"], list) and "queue_position" not in running
    done = sim.wait(job)
    assert done["metrics"]["inference_time"] > 0
    assert {"message", "level", "source", "timestamp"} <= set(done["logs"][0])
    assert "error" not in done


def test_result_before_completion_is_400_then_output(sim: Sim) -> None:
    """The result endpoint answers 400 until the job completes, then the model output."""
    job = sim.submitted("a cat")
    early = sim.http.get(job["response_url"])
    assert early.status_code == 400
    assert early.json() == {"detail": "Request is still in progress"}
    sim.wait(job)
    output = sim.http.get(job["response_url"]).json()
    assert output["video"]["content_type"] == "video/mp4"


def test_full_model_path_also_reaches_the_request(sim: Sim) -> None:
    """Status works with the full model path as well as with owner/alias."""
    job = sim.submitted("a cat")
    response = sim.http.get(f"{sim.url}/{VIDEO_MODEL}/requests/{job['request_id']}/status")
    assert response.status_code == 200


def test_unknown_or_mismatched_request_is_404(sim: Sim) -> None:
    """Status and result answer 404 for unknown ids and for another app's id."""
    missing = str(uuid.uuid4())
    for url in (
        f"{sim.url}/fal-ai/flux/requests/{missing}/status",
        f"{sim.url}/fal-ai/flux/requests/{missing}",
    ):
        response = sim.http.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "Request not found"}
    job = sim.submitted("a cat")
    assert sim.http.get(f"{sim.url}/fal-ai/flux/requests/{job['request_id']}/status").status_code == 404


def test_cancel_queued_job_is_202_and_it_never_delivers(sim: Sim, receiver: Receiver) -> None:
    """Cancelling a queued job answers 202; it ends cancelled and sends no webhook."""
    job = sim.submitted("a cat", webhook=receiver.hook())
    response = sim.http.put(job["cancel_url"])
    assert (response.status_code, response.json()) == (202, {"status": "CANCELLATION_REQUESTED"})
    status = sim.status(job)
    assert status["status"] == "COMPLETED" and status["error_type"] == "client_cancelled"
    assert sim.http.get(job["response_url"]).status_code == 400
    time.sleep(0.8)
    assert receiver.deliveries == []
    assert sim.admin(job["request_id"])["state"] == "CANCELLED"


def test_cancel_in_progress_job_is_202(sim: Sim, receiver: Receiver) -> None:
    """Cancelling a running job answers 202 and stops it before it completes."""
    job = sim.submitted("a cat", webhook=receiver.hook())
    sim.wait(job, "IN_PROGRESS")
    assert sim.http.put(job["cancel_url"]).status_code == 202
    time.sleep(0.8)
    assert sim.admin(job["request_id"])["state"] == "CANCELLED"
    assert receiver.deliveries == []


def test_cancel_completed_is_400_and_unknown_is_404(sim: Sim) -> None:
    """Cancel answers ALREADY_COMPLETED for finished jobs and NOT_FOUND for unknown ones."""
    job = sim.submitted("a cat")
    sim.wait(job)
    done = sim.http.put(job["cancel_url"])
    assert (done.status_code, done.json()) == (400, {"status": "ALREADY_COMPLETED"})
    missing = sim.http.put(f"{sim.url}/fal-ai/kling-video/requests/{uuid.uuid4()}/cancel")
    assert (missing.status_code, missing.json()) == (404, {"status": "NOT_FOUND"})


def test_invalid_model_input_fails_like_a_model(sim: Sim) -> None:
    """A missing prompt or bad duration completes with an error and a 422 result."""
    for job in (sim.submitted(None), sim.submitted("a cat", duration="7")):
        status = sim.wait(job)
        assert status["error"] and status["error_type"]
        result = sim.http.get(job["response_url"])
        assert result.status_code == 422
        assert {"loc", "msg", "type"} <= set(result.json()["detail"][0])


def test_submit_body_must_be_a_json_object(sim: Sim) -> None:
    """Submitting malformed JSON or a non-object answers 422 and creates no job."""
    headers = {"Authorization": "Key k", "Content-Type": "application/json"}
    for content in (b"{nope", b"[1, 2]"):
        response = sim.http.post(f"{sim.url}/{IMAGE_MODEL}", content=content, headers=headers)
        assert response.status_code == 422
    assert sim.http.get(f"{sim.url}/_sim/requests").json()["requests"] == []


def test_webhook_url_must_be_loopback(sim: Sim) -> None:
    """A fal_webhook pointing off this machine is refused with 422."""
    response = sim.submit("a cat", webhook="http://example.invalid/hook")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "fal_webhook"]


def test_render_failure_fails_the_job_with_500(tmp_path: Path, receiver: Receiver) -> None:
    """When ffmpeg cannot run, the job completes with an error, result 500 and an ERROR webhook."""
    receiver.reset()
    with (
        serve_sim(tmp_path, ffmpeg=str(tmp_path / "no-ffmpeg")) as server,
        httpx.Client(trust_env=False) as http,
    ):
        sim = Sim(server.url, http)
        job = sim.submitted("a cat", webhook=receiver.hook())
        assert sim.wait(job)["error_type"] == "runner_server_error"
        assert sim.http.get(job["response_url"]).status_code == 500
        body = json.loads(receiver.wait(1)[0].body)
        assert (body["status"], body["error"]) == ("ERROR", "Invalid status code: 500")


def test_media_left_by_an_earlier_run_is_removed(tmp_path: Path) -> None:
    """Starting the simulator deletes media files no in-memory job can serve any more."""
    stale = tmp_path / "media" / "stale.mp4"
    stale.parent.mkdir()
    stale.write_bytes(b"old")
    create_app(FalSimConfig(data_dir=tmp_path))
    assert not stale.exists()
