"""fal-webhook: verified deliveries complete or fail the node once, with the media in storage."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from canvasgen_stack import supervisor
from canvasgen_stack.config import StackSettings
from canvasgen_stack.falsim.signing import Signer
from tests.support import (
    Canvas,
    Conn,
    FalSimulator,
    User,
    create_canvas,
    dumps,
    job_row,
    load_content,
    node_data,
    signed_headers,
    wait_for,
    wait_for_node,
)

VIDEO = "kling-v2.5-turbo-pro"


def start(
    api: httpx.Client,
    user: User,
    canvas: Canvas,
    node_id: str = "video-1",
    model: str = VIDEO,
    prompt: str = "waves at dusk",
) -> dict[str, Any]:
    response = api.post(
        "/submit",
        json={"projectId": canvas.id, "nodeId": node_id, "model": model, "prompt": prompt},
        headers=user.headers,
    )
    assert response.status_code == 202, response.text
    answer: dict[str, Any] = response.json()
    return answer


def completed(data: dict[str, Any]) -> bool:
    return data.get("loading") is False and "generated" in data


def delivered(fal: FalSimulator, request_id: str, count: int = 1) -> dict[str, Any]:
    """Wait until the simulator recorded `count` deliveries that got a 2xx."""

    def check() -> dict[str, Any] | None:
        job = fal.request(request_id)
        ok = [a for a in job["attempts"] if a["ok"]]
        return job if len(ok) >= count else None

    result: dict[str, Any] = wait_for(check, timeout=40)
    return result


def test_video_lifecycle_stores_the_providers_bytes(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, stack: StackSettings
) -> None:
    """submit → webhook → completed node whose URL serves the provider's exact bytes as video/mp4."""
    before = node_data(db, project.id, "video-1")
    answer = start(api, alice, project)
    after = wait_for_node(db, project.id, "video-1", completed)
    generated = after["generated"]
    assert after == {**before, "generated": generated, "loading": False, "updatedAt": after["updatedAt"]}
    assert generated["type"] == "video/mp4"
    assert generated["url"] == f"{stack.media_base_url}/generations/{project.id}/{answer['jobId']}.mp4"
    head = httpx.head(generated["url"])
    assert head.status_code == 200 and head.headers["content-type"] == "video/mp4"
    provider_url = fal.request(answer["requestId"])["output"]["video"]["url"]
    stored, original = httpx.get(generated["url"]).content, httpx.get(provider_url).content
    assert hashlib.sha256(stored).digest() == hashlib.sha256(original).digest()
    assert stored[4:8] == b"ftyp"
    job = job_row(db, answer["jobId"])
    assert job["status"] == "completed" and job["result"]["generated"] == generated
    others = [n for n in load_content(db, project.id)["nodes"] if n["id"] != "video-1"]
    assert others == [n for n in project.content["nodes"] if n["id"] != "video-1"]


def test_image_lifecycle(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """An image model's first image is stored as image/png on the node."""
    start(api, alice, project, node_id="image-1", model="flux-dev")
    data = wait_for_node(db, project.id, "image-1", completed)
    assert data["generated"]["type"] == "image/png"
    assert httpx.get(data["generated"]["url"]).content.startswith(b"\x89PNG")


def test_model_error_fails_the_node_and_keeps_the_old_result(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """An ERROR delivery fails the node with fal's message, keeping an earlier `generated`."""
    start(api, alice, project)
    first = wait_for_node(db, project.id, "video-1", completed)["generated"]
    answer = start(api, alice, project, prompt="storm [sim:model_error]")
    data = wait_for_node(db, project.id, "video-1", lambda d: d.get("status") == "failed")
    assert data["loading"] is False and data["generated"] == first and "requestId" not in data
    assert data["error"]["code"] == "generation_failed" and "422" in data["error"]["message"]
    assert job_row(db, answer["jobId"])["status"] == "failed"


def test_null_payload_is_fetched_from_the_result_url(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """An OK delivery without payload completes from the stored response URL."""
    start(api, alice, project, prompt="fog [sim:null_payload]")
    assert wait_for_node(db, project.id, "video-1", completed)["generated"]["type"] == "video/mp4"


def test_repeated_deliveries_change_nothing(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """Three deliveries of one result all answer 200 and leave the first result in place."""
    answer = start(api, alice, project, prompt="rain [sim:duplicate=3]")
    delivered(fal, answer["requestId"], count=3)
    first = wait_for_node(db, project.id, "video-1", completed)
    fal.redeliver(answer["requestId"])
    delivered(fal, answer["requestId"], count=4)
    assert node_data(db, project.id, "video-1") == first
    version = db.execute("select version from public.projects where id = %s", (project.id,)).fetchone()
    # Three writes: pending, request id, completed.
    assert version == {"version": 4}


def test_stale_delivery_after_a_newer_generation_leaves_the_node(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """A late result of an older generation is kept on its job, never written over the newer one."""
    old = start(api, alice, project, prompt="old [sim:drop]")
    wait_for(lambda: fal.request(old["requestId"])["state"] == "COMPLETED")
    db.execute("update public.generation_jobs set status = 'failed' where id = %s", (old["jobId"],))
    new = start(api, alice, project, prompt="new [sim:never_complete]")
    pending = node_data(db, project.id, "video-1")
    assert pending["requestId"] == new["requestId"]
    fal.redeliver(old["requestId"])
    delivered(fal, old["requestId"])
    assert node_data(db, project.id, "video-1") == pending


def test_delivery_for_a_deleted_node_touches_no_node(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """When the node is gone, the webhook completes the job and writes nothing into the canvas."""
    answer = start(api, alice, project, prompt="gone [sim:delay=1]")
    db.execute(
        "update public.projects set content = jsonb_set(content, '{nodes}', (select jsonb_agg(n) from"
        " jsonb_array_elements(content->'nodes') n where n->>'id' <> 'video-1')) where id = %s",
        (project.id,),
    )
    before = load_content(db, project.id)
    delivered(fal, answer["requestId"])
    wait_for(lambda: job_row(db, answer["jobId"])["status"] == "completed")
    assert load_content(db, project.id) == before


@pytest.mark.parametrize(
    "forgery", ["unsigned", "forged-key", "tampered-body", "expired", "future", "not-hex"]
)
def test_unverified_deliveries_are_refused(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, forgery: str
) -> None:
    """Unsigned, forged, tampered or stale deliveries answer 401 and change nothing."""
    answer = start(api, alice, project, prompt="calm [sim:never_complete]")
    pending = node_data(db, project.id, "video-1")
    payload = {
        "request_id": answer["requestId"],
        "gateway_request_id": answer["requestId"],
        "status": "OK",
        "payload": {"video": {"url": "http://127.0.0.1:1/x.mp4"}},
        "error": None,
    }
    raw = dumps(payload)
    genuine = fal.signer()
    other = Signer(Ed25519PrivateKey.generate())
    now = int(time.time())
    headers = {
        "unsigned": {"Content-Type": "application/json"},
        "forged-key": signed_headers(other, answer["requestId"], raw),
        "tampered-body": signed_headers(genuine, answer["requestId"], dumps({**payload, "status": "ERROR"})),
        "expired": signed_headers(genuine, answer["requestId"], raw, timestamp=now - 301),
        "future": signed_headers(genuine, answer["requestId"], raw, timestamp=now + 301),
        "not-hex": {**signed_headers(genuine, answer["requestId"], raw), "X-Fal-Webhook-Signature": "zz"},
    }[forgery]
    response = api.post("/fal-webhook", params={"job": answer["jobId"]}, content=raw, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] in ("invalid_signature", "stale_signature")
    assert node_data(db, project.id, "video-1") == pending
    assert job_row(db, answer["jobId"])["status"] == "pending"


def test_unknown_request_is_acknowledged(
    api: httpx.Client, db: Conn, fal: FalSimulator, project: Canvas
) -> None:
    """A signed delivery for a request we never made answers 200 so fal stops retrying."""
    request_id = str(uuid.uuid4())
    raw = dumps({"request_id": request_id, "status": "OK", "payload": None})
    response = api.post("/fal-webhook", content=raw, headers=signed_headers(fal.signer(), request_id, raw))
    assert response.status_code == 200 and response.json()["outcome"] == "unknown"
    assert load_content(db, project.id) == project.content


def test_twenty_concurrent_webhooks_complete_twenty_nodes(
    api: httpx.Client, db: Conn, alice: User, fal: FalSimulator
) -> None:
    """Twenty webhooks landing at once on one project each complete their own node."""
    canvas = create_canvas(db, alice.id, video_nodes=20, image_nodes=0)
    nodes = canvas.node_ids("video")
    fal.set_faults({"delay": 2})
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda n: start(api, alice, canvas, node_id=n), nodes))
    assert len({a["requestId"] for a in answers}) == 20
    for node_id in nodes:
        wait_for_node(db, canvas.id, node_id, completed, timeout=60)
    urls = {node_data(db, canvas.id, n)["generated"]["url"] for n in nodes}
    assert len(urls) == 20


def test_storage_outage_is_retried_until_it_completes(
    api: httpx.Client, db: Conn, stack: StackSettings, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """With storage down the webhook answers 503 and leaves the node pending; fal's retry completes it."""
    supervisor.stop_service(stack, "storage")
    try:
        answer = start(api, alice, project)
        failures = wait_for(
            lambda: [a for a in fal.request(answer["requestId"])["attempts"] if a["status_code"] == 503],
            timeout=30,
        )
        assert failures
        data = node_data(db, project.id, "video-1")
        assert data["loading"] is True and "generated" not in data
    finally:
        supervisor.start_service(stack, next(s for s in supervisor.services(stack) if s.name == "storage"))
    data = wait_for_node(db, project.id, "video-1", completed, timeout=60)
    assert httpx.head(data["generated"]["url"]).status_code == 200


def test_media_outside_the_allowed_hosts_is_refused(
    api: httpx.Client, db: Conn, stack: StackSettings, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """A redirect from the provider's media host to another loopback host fails the node, fetching nothing."""
    target = f"http://localhost:{stack.db_port}/"
    start(api, alice, project, prompt=f"far away [sim:redirect={target}]")
    data = wait_for_node(db, project.id, "video-1", lambda d: d.get("status") == "failed")
    assert data["error"]["code"] == "media_host_refused" and data["loading"] is False


def test_a_generations_log_lines_tell_its_story(
    api: httpx.Client, db: Conn, alice: User, project: Canvas, fal: FalSimulator, stack: StackSettings
) -> None:
    """The JSON log lines of one job run from loading state saved to node updated, without secrets."""
    answer = start(api, alice, project)
    wait_for_node(db, project.id, "video-1", completed)

    def story() -> list[dict[str, Any]]:
        lines = stack.path("logs", "functions.log").read_text().splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        return [e for e in entries if e.get("jobId") == answer["jobId"]]

    wait_for(lambda: any(e["message"] == "node updated" for e in story()))
    messages = [e["message"] for e in story()]
    expected = [
        "loading state saved",
        "submitted to provider",
        "request id saved",
        "webhook verified",
        "media uploaded",
        "node updated",
    ]
    assert [m for m in messages if m in expected] == expected
    for entry in story():
        assert entry["projectId"] == project.id and entry["nodeId"] == "video-1" and entry["severity"]
    webhook_lines = [e for e in story() if e["message"] in expected[3:]]
    assert all(e["requestId"] == answer["requestId"] for e in webhook_lines)
    log_text = stack.path("logs", "functions.log").read_text()
    assert "local-key-secret" not in log_text and stack.jwt_secret not in log_text
