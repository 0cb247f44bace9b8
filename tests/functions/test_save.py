"""save: a client's autosave never undoes what the server wrote, and never overwrites unseen edits."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from tests.functions.test_submit import assert_error
from tests.functions.test_webhook import completed, delivered, start
from tests.support import (
    Canvas,
    Conn,
    FalSimulator,
    User,
    job_row,
    load_content,
    node_data,
    wait_for,
    wait_for_node,
)


def save(api: httpx.Client, user: User, canvas_id: str, content: dict[str, Any], base: int) -> httpx.Response:
    return api.post(
        "/save", json={"projectId": canvas_id, "content": content, "baseVersion": base}, headers=user.headers
    )


def loaded(api: httpx.Client, user: User, canvas_id: str) -> dict[str, Any]:
    response = api.get("/project", params={"id": canvas_id}, headers=user.headers)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def moved(content: dict[str, Any], node_id: str, x: int) -> dict[str, Any]:
    edited = copy.deepcopy(content)
    for node in edited["nodes"]:
        if node["id"] == node_id:
            node["position"] = {"x": x, "y": 0}
            node["data"]["instructions"] = f"moved to {x}"
    return edited


def test_save_applies_edits_and_bumps_the_version(
    api: httpx.Client, db: Conn, alice: User, project: Canvas
) -> None:
    """A save from the current version stores the edits and answers the new version."""
    current = loaded(api, alice, project.id)
    response = save(api, alice, project.id, moved(current["content"], "image-1", 500), current["version"])
    assert response.status_code == 200, response.text
    assert response.json()["version"] == current["version"] + 1
    assert node_data(db, project.id, "image-1")["instructions"] == "moved to 500"
    assert loaded(api, alice, project.id)["version"] == current["version"] + 1


def test_a_stale_autosave_keeps_the_webhooks_result(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """An autosave carrying a copy from before completion keeps the result, and its own edits land too."""
    before = loaded(api, alice, project.id)
    start(api, alice, project)
    result = wait_for_node(db, project.id, "video-1", completed)
    stale = copy.deepcopy(before["content"])
    for node in stale["nodes"]:
        if node["id"] == "video-1":
            node["data"].update(
                {"loading": True, "status": "pending", "generated": {"url": "x", "type": "y"}}
            )
    response = save(api, alice, project.id, moved(stale, "video-2", 900), before["version"])
    assert response.status_code == 200, response.text
    assert node_data(db, project.id, "video-1") == {**result}
    assert node_data(db, project.id, "video-2")["instructions"] == "moved to 900"


def test_a_stale_save_over_another_clients_edits_conflicts(
    api: httpx.Client, db: Conn, alice: User, project: Canvas
) -> None:
    """When another save landed since the base version, 409 returns the current canvas and nothing changes."""
    base = loaded(api, alice, project.id)
    first = save(api, alice, project.id, moved(base["content"], "image-1", 100), base["version"])
    assert first.status_code == 200
    stored = load_content(db, project.id)
    second = save(api, alice, project.id, moved(base["content"], "image-2", 200), base["version"])
    assert second.status_code == 409
    body = second.json()
    assert body["error"]["code"] == "version_conflict"
    assert body["current"] == {"version": first.json()["version"], "content": stored}
    assert load_content(db, project.id) == stored


def test_deleting_a_generating_node_cancels_its_job(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """A save without a node whose generation runs cancels the job; its late result touches no node."""
    answer = start(api, alice, project, prompt="doomed [sim:ignore_cancel,delay=1]")
    current = loaded(api, alice, project.id)
    without = copy.deepcopy(current["content"])
    without["nodes"] = [n for n in without["nodes"] if n["id"] != "video-1"]
    without["edges"] = [e for e in without["edges"] if "video-1" not in (e["source"], e["target"])]
    assert save(api, alice, project.id, without, current["version"]).status_code == 200
    assert job_row(db, answer["jobId"])["status"] == "cancelled"
    after_save = load_content(db, project.id)
    delivered(fal, answer["requestId"])
    assert wait_for(lambda: job_row(db, answer["jobId"])["result"])["generated"]["url"]
    assert load_content(db, project.id) == after_save
    assert fal.request(answer["requestId"])["state"] in ("COMPLETED", "CANCELLED")


def test_new_nodes_cannot_arrive_loading(api: httpx.Client, db: Conn, alice: User, project: Canvas) -> None:
    """A node new to the server keeps a copied result but never an in-flight generation state."""
    current = loaded(api, alice, project.id)
    content = copy.deepcopy(current["content"])
    content["nodes"].append(
        {
            "id": "pasted",
            "type": "video",
            "position": {"x": 0, "y": 0},
            "data": {
                "loading": True,
                "status": "pending",
                "requestId": "r",
                "generated": {"url": "https://cdn.example.com/v.mp4", "type": "video/mp4"},
            },
        }
    )
    assert save(api, alice, project.id, content, current["version"]).status_code == 200
    assert node_data(db, project.id, "pasted") == {
        "generated": {"url": "https://cdn.example.com/v.mp4", "type": "video/mp4"}
    }


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ({"nodes": "all"}, "content.nodes"),
        ({"nodes": [{"id": "a"}, {"id": "a"}]}, "content.nodes.1.id"),
        ({"nodes": [{"type": "video"}]}, "content.nodes.0"),
        ({"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": "b"}]}, "content.edges.0.target"),
        ({"nodes": [{"id": "a", "data": []}]}, "content.nodes.0.data"),
        ({"nodes": [], "viewport": 3}, "content.viewport"),
    ],
)
def test_invalid_canvases_are_refused(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, content: dict[str, Any], field: str
) -> None:
    """Malformed canvases answer 400 naming the field, and nothing is stored."""
    error = assert_error(save(api, alice, project.id, content, 1), 400, "validation_failed")
    assert field in [d["field"] for d in error["details"]]
    assert load_content(db, project.id) == project.content


def test_save_refusals(api: httpx.Client, db: Conn, alice: User, bob: User, project: Canvas) -> None:
    """Another user's project answers 404, no token 401, an oversized canvas 413."""
    assert_error(save(api, bob, project.id, project.content, 1), 404, "project_not_found")
    assert (
        api.post("/save", json={"projectId": project.id, "content": {}, "baseVersion": 1}).status_code == 401
    )
    huge = {"nodes": [{"id": f"n{i}", "data": {"text": "x" * 1000}} for i in range(9000)], "edges": []}
    assert_error(save(api, alice, project.id, huge, 1), 413, "payload_too_large")
    assert load_content(db, project.id) == project.content
