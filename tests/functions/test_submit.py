"""submit: the pending state, and every refusal leaving the canvas as it was."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt
import pytest

from canvasgen_stack import supervisor
from canvasgen_stack.config import StackSettings
from tests.support import Canvas, Conn, FalSimulator, User, load_content, node_data, wait_for_node

VIDEO = "kling-v2.5-turbo-pro"


def body(canvas: Canvas, node_id: str = "video-1", **overrides: Any) -> dict[str, Any]:
    return {
        "projectId": canvas.id,
        "nodeId": node_id,
        "model": VIDEO,
        "prompt": "a quiet harbour",
        **overrides,
    }


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in response.text
    return error


def assert_untouched(db: Conn, canvas: Canvas) -> None:
    assert load_content(db, canvas.id) == canvas.content


def test_submit_marks_only_its_node_pending(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """A 202 leaves the node pending with its request id, and every other key and node untouched."""
    fal.set_faults({"never_complete": True})
    response = api.post("/submit", json=body(project), headers=alice.headers)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["status"] == "pending" and answer["requestId"] and uuid.UUID(answer["jobId"])
    data = node_data(db, project.id, "video-1")
    before = project.content["nodes"][1]["data"]
    assert data == {
        **before,
        "loading": True,
        "status": "pending",
        "requestId": answer["requestId"],
        "updatedAt": data["updatedAt"],
    }
    assert data["updatedAt"].endswith("Z") and "T" in data["updatedAt"]
    stored = load_content(db, project.id)
    assert [n for n in stored["nodes"] if n["id"] != "video-1"] == [
        n for n in project.content["nodes"] if n["id"] != "video-1"
    ]
    assert stored["edges"] == project.content["edges"] and stored["viewport"] == project.content["viewport"]
    job = db.execute(
        "select status::text, request_id, input from public.generation_jobs where id = %s", (answer["jobId"],)
    ).fetchone()
    assert job == {
        "status": "pending",
        "request_id": answer["requestId"],
        "input": {"prompt": "a quiet harbour", "duration": "5", "aspect_ratio": "16:9"},
    }


def test_submit_sends_the_models_fal_input(
    api: httpx.Client, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """Duration goes to fal as a string; an image URL selects image-to-video without aspect ratio."""
    fal.set_faults({"never_complete": True})
    response = api.post(
        "/submit",
        json=body(project, duration=10, imageUrl="https://example.com/a.png"),
        headers=alice.headers,
    )
    assert response.status_code == 202, response.text
    sent = fal.request(response.json()["requestId"])
    assert sent["model"].endswith("kling-video/v2.5-turbo/pro/image-to-video")
    assert sent["input"] == {
        "prompt": "a quiet harbour",
        "duration": "10",
        "image_url": "https://example.com/a.png",
    }


@pytest.mark.parametrize(
    ("payload", "code", "fields"),
    [
        ({"duration": 7}, "validation_failed", ["duration"]),
        ({"aspectRatio": "4:3"}, "validation_failed", ["aspectRatio"]),
        (
            {"imageUrl": "https://example.com/a.png", "aspectRatio": "1:1"},
            "validation_failed",
            ["aspectRatio"],
        ),
        ({"model": "flux-dev", "duration": 5}, "validation_failed", ["duration"]),
        ({"projectId": "not-a-uuid"}, "validation_failed", ["projectId"]),
        ({"prompt": ""}, "validation_failed", ["prompt"]),
        ({"nodeId": None}, "validation_failed", ["nodeId"]),
        ({"colour": "red"}, "validation_failed", ["colour"]),
    ],
)
def test_invalid_bodies_are_refused_field_by_field(
    api: httpx.Client,
    db: Conn,
    alice: User,
    project: Canvas,
    payload: dict[str, Any],
    code: str,
    fields: list[str],
) -> None:
    """Failed validation answers 400 with one detail per field and changes nothing."""
    error = assert_error(api.post("/submit", json=body(project, **payload), headers=alice.headers), 400, code)
    assert [d["field"] for d in error["details"]] == fields
    assert_untouched(db, project)


def test_malformed_json_is_refused(api: httpx.Client, db: Conn, alice: User, project: Canvas) -> None:
    """A body that is not JSON answers 400 invalid_json."""
    response = api.post(
        "/submit", content=b"{not json", headers={**alice.headers, "Content-Type": "application/json"}
    )
    assert_error(response, 400, "invalid_json")
    assert_untouched(db, project)


def test_unknown_model_lists_the_known_ones(
    api: httpx.Client, db: Conn, alice: User, project: Canvas
) -> None:
    """An unknown model answers 400 unknown_model naming every model there is."""
    error = assert_error(
        api.post("/submit", json=body(project, model="sora-9"), headers=alice.headers), 400, "unknown_model"
    )
    assert error["details"]["known"] == ["flux-dev", "kling-v2.5-turbo-pro"]
    assert_untouched(db, project)


def _expired(stack: StackSettings, user: User) -> str:
    return stack.user_token(user.id, user.email, lifetime_seconds=-10)


@pytest.mark.parametrize(
    "case", ["missing", "garbage", "expired", "wrong-secret", "alg-none", "no-sub", "anon"]
)
def test_bad_tokens_are_refused(
    api: httpx.Client, db: Conn, stack: StackSettings, alice: User, project: Canvas, case: str
) -> None:
    """Missing, malformed, expired, forged, unsigned and non-user tokens answer 401."""
    claims = {"sub": alice.id, "role": "authenticated", "aud": "authenticated", "exp": int(time.time()) + 600}
    tokens = {
        "missing": None,
        "garbage": "not.a.token",
        "expired": _expired(stack, alice),
        "wrong-secret": jwt.encode(
            claims, "another-secret-that-is-at-least-32-characters", algorithm="HS256"
        ),
        "alg-none": jwt.encode(claims, None, algorithm="none"),
        "no-sub": jwt.encode(
            {k: v for k, v in claims.items() if k != "sub"}, stack.jwt_secret, algorithm="HS256"
        ),
        "anon": stack.anon_key,
    }
    token = tokens[case]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    error = assert_error(
        api.post("/submit", json=body(project), headers=headers),
        401,
        {"missing": "missing_token", "expired": "token_expired"}.get(case, "invalid_token"),
    )
    assert error["message"]
    assert_untouched(db, project)


def test_another_users_project_looks_missing(api: httpx.Client, db: Conn, bob: User, project: Canvas) -> None:
    """Bob gets the same 404 for Alice's project as for one that does not exist."""
    theirs = assert_error(
        api.post("/submit", json=body(project), headers=bob.headers), 404, "project_not_found"
    )
    missing = assert_error(
        api.post("/submit", json=body(Canvas(str(uuid.uuid4()), {})), headers=bob.headers),
        404,
        "project_not_found",
    )
    assert theirs == missing
    assert_untouched(db, project)


def test_unknown_node_is_refused(api: httpx.Client, db: Conn, alice: User, project: Canvas) -> None:
    """A node id that is not in the project answers 404 node_not_found."""
    assert_error(
        api.post("/submit", json=body(project, node_id="ghost"), headers=alice.headers), 404, "node_not_found"
    )
    assert_untouched(db, project)


def test_second_submit_for_a_pending_node_conflicts(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """While a node's generation runs, another submit answers 409 and leaves the first untouched."""
    fal.set_faults({"never_complete": True})
    first = api.post("/submit", json=body(project), headers=alice.headers)
    assert first.status_code == 202
    pending = node_data(db, project.id, "video-1")
    assert_error(
        api.post("/submit", json=body(project), headers=alice.headers), 409, "generation_in_progress"
    )
    assert node_data(db, project.id, "video-1") == pending


def test_oversized_body_is_refused(api: httpx.Client, db: Conn, alice: User, project: Canvas) -> None:
    """A body over 64 KiB answers 413 before it is parsed."""
    response = api.post(
        "/submit",
        content=json.dumps(body(project, prompt="x" * 70_000)).encode(),
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert_error(response, 413, "payload_too_large")
    assert_untouched(db, project)


@pytest.mark.parametrize(
    ("status", "expected", "code"), [(422, 502, "provider_rejected"), (500, 503, "provider_unavailable")]
)
def test_provider_refusal_fails_the_node(
    api: httpx.Client,
    db: Conn,
    alice: User,
    project: Canvas,
    fal: FalSimulator,
    status: int,
    expected: int,
    code: str,
) -> None:
    """A refused or failing provider answers 502/503 and leaves the node failed, not loading."""
    fal.set_faults({"submit_status": status})
    assert_error(api.post("/submit", json=body(project), headers=alice.headers), expected, code)
    data = node_data(db, project.id, "video-1")
    assert data["loading"] is False and data["status"] == "failed" and data["error"]["code"] == code
    assert "requestId" not in data
    job = db.execute(
        "select status::text from public.generation_jobs where project_id = %s", (project.id,)
    ).fetchone()
    assert job == {"status": "failed"}
    others = [n for n in load_content(db, project.id)["nodes"] if n["id"] != "video-1"]
    assert others == [n for n in project.content["nodes"] if n["id"] != "video-1"]


def test_unreachable_provider_fails_the_node(
    api: httpx.Client, db: Conn, stack: StackSettings, alice: User, project: Canvas
) -> None:
    """With the provider down, submit answers 503 and the node shows the failure."""
    supervisor.stop_service(stack, "fal")
    try:
        assert_error(
            api.post("/submit", json=body(project), headers=alice.headers), 503, "provider_unavailable"
        )
    finally:
        supervisor.restart_service(stack, "fal")
    data = node_data(db, project.id, "video-1")
    assert data["loading"] is False and data["status"] == "failed"
    # The node can be generated again once the provider is back.
    assert api.post("/submit", json=body(project), headers=alice.headers).status_code == 202
    wait_for_node(db, project.id, "video-1", lambda d: "generated" in d)


def test_method_and_cors(api: httpx.Client) -> None:
    """GET on submit answers 405; a browser preflight gets CORS headers."""
    assert_error(api.get("/submit"), 405, "method_not_allowed")
    preflight = api.options(
        "/submit", headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "authorization" in preflight.headers["access-control-allow-headers"]


def test_double_click_starts_one_generation(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """Two submits for one node at the same moment: one 202, one 409, one provider job."""
    fal.set_faults({"never_complete": True})
    before = len(fal.client.get("/_sim/requests").json()["requests"])
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(
            pool.map(lambda _: api.post("/submit", json=body(project), headers=alice.headers), range(2))
        )
    assert sorted(r.status_code for r in responses) == [202, 409]
    assert len(fal.client.get("/_sim/requests").json()["requests"]) == before + 1
    count = db.execute(
        "select count(*) as n from public.generation_jobs where project_id = %s", (project.id,)
    )
    assert count.fetchone() == {"n": 1}
