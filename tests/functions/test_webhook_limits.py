"""fal-webhook limits, in process with tight settings against the real stack: size, time, hosts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from tests.functions.test_webhook import start
from tests.support import (
    Canvas,
    Conn,
    FalSimulator,
    User,
    dumps,
    job_row,
    node_data,
    signed_headers,
    wait_for,
)

MAIN = str(PROJECT_ROOT / "functions" / "main.py")


@pytest.fixture
def webhook(in_process: Any) -> Any:
    """A factory of in-process fal-webhook clients whose settings the test chooses."""
    return lambda **overrides: in_process("fal_webhook", **overrides)


def dropped_generation(
    api: httpx.Client, alice: User, project: Canvas, fal: FalSimulator, faults: str
) -> tuple[dict[str, Any], bytes]:
    """Start a generation whose webhook fal never sends; return it and its genuine delivery body."""
    answer = start(api, alice, project, prompt=f"limits [sim:drop,{faults}]")
    job = wait_for(lambda: (j := fal.request(answer["requestId"]))["state"] == "COMPLETED" and j)
    body = dumps(
        {
            "request_id": answer["requestId"],
            "gateway_request_id": answer["requestId"],
            "status": "OK",
            "payload": job["output"],
            "error": None,
        }
    )
    return answer, body


def deliver(client: FlaskClient, fal: FalSimulator, answer: dict[str, Any], body: bytes) -> Any:
    headers = signed_headers(fal.signer(), answer["requestId"], body)
    return client.post(f"/?job={answer['jobId']}", data=body, headers=headers)


def test_media_over_the_size_limit_fails_the_node(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, webhook: Any
) -> None:
    """Media over the size limit is refused while streaming; the node fails, nothing is stored."""
    answer, body = dropped_generation(api, alice, project, fal, "large_media=300000")
    response = deliver(webhook(media_max_bytes=200_000), fal, answer, body)
    assert response.status_code == 200 and response.json["outcome"] == "failed"
    data = node_data(db, project.id, "video-1")
    assert data["error"]["code"] == "media_too_large" and data["loading"] is False and "generated" not in data
    assert job_row(db, answer["jobId"])["status"] == "failed"


def test_slow_media_past_the_deadline_is_retried_later(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, webhook: Any
) -> None:
    """A download that outlasts its deadline answers 503 and leaves the node pending for fal's retry."""
    answer, body = dropped_generation(api, alice, project, fal, "slow_media=100000")
    response = deliver(webhook(media_timeout_seconds=0.3), fal, answer, body)
    assert response.status_code == 503 and response.json["error"]["code"] == "media_timeout"
    assert node_data(db, project.id, "video-1")["loading"] is True
    again = deliver(webhook(), fal, answer, body)
    assert again.status_code == 200 and again.json["outcome"] == "completed"


def test_media_off_the_allowed_hosts_is_never_fetched(
    api: httpx.Client,
    db: Conn,
    alice: User,
    project: Canvas,
    fal: FalSimulator,
    webhook: Any,
    stack: StackSettings,
) -> None:
    """Media on a host outside the allowlist fails the node without a request to that host."""
    answer, body = dropped_generation(api, alice, project, fal, "delay=0")
    response = deliver(webhook(media_hosts=f"127.0.0.1:{stack.storage_port}"), fal, answer, body)
    assert response.status_code == 200 and response.json["outcome"] == "failed"
    assert node_data(db, project.id, "video-1")["error"]["code"] == "media_host_refused"
