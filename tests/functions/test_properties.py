"""Generated bad input against every function: never a 5xx, never a trace, never a changed canvas."""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canvasgen_stack.config import StackSettings
from tests.functions.test_webhook import start
from tests.support import (
    ALICE_ID,
    Canvas,
    Conn,
    FalSimulator,
    User,
    dumps,
    node_data,
    signed_headers,
    wait_for,
)

ENDPOINTS = [
    ("POST", "/submit"),
    ("POST", "/save"),
    ("POST", "/cancel"),
    ("GET", "/project"),
    ("POST", "/reconcile"),
    ("POST", "/fal-webhook"),
]
EXAMPLES = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def bad_tokens(stack: StackSettings) -> list[str | None]:
    now = int(time.time())
    claims = {"sub": ALICE_ID, "role": "authenticated", "aud": "authenticated", "exp": now + 600}
    no_subject = {"role": "authenticated", "exp": now + 600}
    return [
        None,
        "",
        "Bearer",
        "Bearer not-a-jwt",
        f"Bearer {jwt.encode(claims, None, algorithm='none')}",
        f"Bearer {jwt.encode(claims, 'a-different-secret-of-thirty-two-chars!', algorithm='HS256')}",
        f"Bearer {jwt.encode({**claims, 'exp': now - 5}, stack.jwt_secret, algorithm='HS256')}",
        f"Bearer {jwt.encode(no_subject, stack.jwt_secret, algorithm='HS256')}",
        f"Bearer {jwt.encode({**claims, 'sub': 'not-a-uuid'}, stack.jwt_secret, algorithm='HS256')}",
        f"Basic {stack.anon_key}",
    ]


def shaped_bodies(project_id: str) -> st.SearchStrategy[Any]:
    """Bodies shaped like the real ones with hostile values, so validation is exercised past the first key."""
    ids = st.sampled_from([project_id, str(uuid.uuid4()), "", "../../etc", "0" * 40]) | st.text(max_size=20)
    fields = {
        "projectId": ids,
        "nodeId": st.text(max_size=300) | st.sampled_from(["video-1", "ghost"]) | json_values,
        "model": st.sampled_from(["kling-v2.5-turbo-pro", "flux-dev", "sora"]) | json_values,
        "prompt": st.text(max_size=50) | json_values,
        "duration": json_values | st.sampled_from([5, 7, "5"]),
        "aspectRatio": json_values,
        "imageUrl": st.sampled_from(["file:///etc/passwd", "javascript:x"]) | json_values,
        "content": json_values,
        "baseVersion": json_values,
    }
    return st.fixed_dictionaries({}, optional=fields) | json_values


def snapshot(db: Conn, project_id: str) -> Any:
    return db.execute("select content, version from public.projects where id = %s", (project_id,)).fetchone()


def assert_clean_refusal(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text and 'File "' not in response.text
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_hostile_requests_are_refused_cleanly(
    api: httpx.Client, db: Conn, stack: StackSettings, alice: User, project: Canvas, method: str, path: str
) -> None:
    """Random bodies, headers and queries never answer 5xx, and a refused request changes nothing."""
    tokens = [*bad_tokens(stack), f"Bearer {alice.token}"]

    @EXAMPLES
    @given(
        body=shaped_bodies(project.id),
        token=st.sampled_from(tokens),
        query=st.dictionaries(
            st.sampled_from(["id", "job", "x"]), st.text(max_size=30) | st.just(project.id), max_size=2
        ),
        raw=st.booleans(),
    )
    def check(body: Any, token: str | None, query: dict[str, str], raw: bool) -> None:
        before = snapshot(db, project.id)
        headers = {"Authorization": token} if token is not None else {}
        content = json.dumps(body).encode()[:-1] if raw else json.dumps(body).encode()
        response = api.request(
            method,
            path,
            params=query,
            content=content,
            headers={**headers, "Content-Type": "application/json"},
        )
        assert_clean_refusal(response)
        if response.status_code >= 400:
            assert snapshot(db, project.id) == before

    check()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.2:{fal}/media/x.mp4",
        "http://localhost:{db}/",
        "http://[::1]/x.mp4",
        "http://[::1]:{fal}/media/x.mp4",
        "gopher://127.0.0.1:{fal}/",
        "http://user:pw@127.0.0.1:{fal}/media/x.mp4",
    ],
)
def test_signed_media_urls_off_the_allowlist_are_never_fetched(
    api: httpx.Client,
    db: Conn,
    stack: StackSettings,
    alice: User,
    project: Canvas,
    fal: FalSimulator,
    url: str,
) -> None:
    """Even a genuinely signed delivery cannot make the webhook fetch from another host or scheme."""
    answer = start(api, alice, project, prompt="target [sim:drop]")
    target = url.format(fal=stack.fal_port, db=stack.db_port)
    raw = dumps({"request_id": answer["requestId"], "status": "OK", "payload": {"video": {"url": target}}})
    response = api.post(
        "/fal-webhook",
        params={"job": answer["jobId"]},
        content=raw,
        headers=signed_headers(fal.signer(), answer["requestId"], raw),
    )
    assert response.status_code == 200 and response.json()["outcome"] == "failed"
    data = node_data(db, project.id, "video-1")
    assert data["error"]["code"] == "media_host_refused" and data["loading"] is False


def test_a_replayed_delivery_changes_nothing(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """Replaying a genuine signed delivery within the tolerance is a harmless duplicate."""
    answer = start(api, alice, project, prompt="replay [sim:drop]")
    wait_for(lambda: fal.request(answer["requestId"])["state"] == "COMPLETED")
    raw = dumps(
        {
            "request_id": answer["requestId"],
            "status": "OK",
            "payload": fal.request(answer["requestId"])["output"],
        }
    )
    headers = signed_headers(fal.signer(), answer["requestId"], raw)
    first = api.post("/fal-webhook", params={"job": answer["jobId"]}, content=raw, headers=headers)
    assert first.json()["outcome"] == "completed"
    settled = node_data(db, project.id, "video-1")
    again = api.post("/fal-webhook", params={"job": answer["jobId"]}, content=raw, headers=headers)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert node_data(db, project.id, "video-1") == settled


def test_a_slow_body_does_not_hold_up_other_callers(
    stack: StackSettings, api: httpx.Client, alice: User, project: Canvas
) -> None:
    """While one client drips its body byte by byte, others are answered at once."""
    with socket.create_connection((stack.host, stack.api_port)) as slow:
        slow.sendall(
            b"POST /functions/v1/submit HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 200\r\n\r\n{"
        )
        for _ in range(5):
            started = time.monotonic()
            assert api.get("/project", params={"id": project.id}, headers=alice.headers).status_code == 200
            assert time.monotonic() - started < 5
            slow.sendall(b" ")
            time.sleep(0.2)
