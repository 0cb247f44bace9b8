"""Webhook delivery: body shape, ED25519 signature, JWKS, retries and redelivery."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from canvasgen_stack.falsim.app import create_app
from canvasgen_stack.falsim.config import FalSimConfig

from .support import Receiver, Sim, verifies


def test_jwks_publishes_one_ed25519_key(sim: Sim) -> None:
    """The JWKS holds an OKP/Ed25519 key with an unpadded base64url x."""
    keys = sim.http.get(f"{sim.url}/.well-known/jwks.json").json()["keys"]
    assert len(keys) == 1
    key = keys[0]
    assert {k: key[k] for k in ("kty", "crv", "use", "alg")} == {
        "kty": "OKP",
        "crv": "Ed25519",
        "use": "sig",
        "alg": "EdDSA",
    }
    assert key["kid"] and "=" not in key["x"] and len(key["x"]) == 43


def test_signing_key_survives_restarts(tmp_path: Path) -> None:
    """A second app on the same data dir publishes the same key; the key file is owner-only."""
    first = create_app(FalSimConfig(data_dir=tmp_path)).state.simulator.signer.jwks()
    second = create_app(FalSimConfig(data_dir=tmp_path)).state.simulator.signer.jwks()
    assert first == second
    assert os.stat(tmp_path / "webhook-signing-key.pem").st_mode & 0o077 == 0


def test_ok_webhook_is_fal_shaped_signed_and_verifies(sim: Sim, receiver: Receiver) -> None:
    """A completed job POSTs fal's OK body, json.dumps-serialised, with headers that verify."""
    job = sim.submitted("a cat", webhook=receiver.hook("ok?node=1"))
    [delivery] = receiver.wait(1)
    body = json.loads(delivery.body)
    assert delivery.body == json.dumps(body).encode()
    assert list(body) == ["request_id", "gateway_request_id", "status", "payload", "error"]
    assert body["request_id"] == job["request_id"] and body["status"] == "OK" and body["error"] is None
    assert body["payload"] == sim.http.get(job["response_url"]).json()
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["x-fal-webhook-request-id"] == job["request_id"]
    assert abs(int(delivery.headers["x-fal-webhook-timestamp"]) - time.time()) < 5
    assert verifies(sim.http.get(f"{sim.url}/.well-known/jwks.json").json(), delivery)


def test_no_webhook_without_fal_webhook(sim: Sim, receiver: Receiver) -> None:
    """A job submitted without fal_webhook completes and records no delivery attempt."""
    job = sim.submitted("a cat")
    sim.wait(job)
    assert sim.admin(job["request_id"])["attempts"] == []


def test_failed_deliveries_are_retried_with_fresh_timestamps(sim: Sim, receiver: Receiver) -> None:
    """Non-2xx answers are retried on the schedule, each attempt re-signed with a new timestamp."""
    receiver.plan[:] = [(500, 0.0), (503, 0.0)]
    job = sim.submitted("a cat", webhook=receiver.hook())
    deliveries = receiver.wait(3)
    time.sleep(0.5)
    assert len(receiver.deliveries) == 3
    jwks = sim.http.get(f"{sim.url}/.well-known/jwks.json").json()
    assert all(verifies(jwks, delivery) for delivery in deliveries)
    stamps = [int(delivery.headers["x-fal-webhook-timestamp"]) for delivery in deliveries]
    assert stamps[2] > stamps[0]
    assert len({delivery.body for delivery in deliveries}) == 1
    attempts = sim.attempts(job["request_id"], 3)
    assert [(a["attempt"], a["status_code"], a["ok"]) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]


def test_retries_stop_after_the_last_scheduled_attempt(sim: Sim, receiver: Receiver) -> None:
    """A receiver that always fails gets one attempt plus one per configured retry delay."""
    receiver.plan[:] = [(500, 0.0)] * 10
    job = sim.submitted("a cat", webhook=receiver.hook())
    receiver.wait(4)
    time.sleep(1.0)
    assert len(receiver.deliveries) == 4
    assert len(sim.attempts(job["request_id"], 4)) == 4


def test_slow_receiver_times_out_and_is_retried(sim: Sim, receiver: Receiver) -> None:
    """An answer slower than the delivery timeout counts as a failure and is retried."""
    receiver.plan[:] = [(200, 1.5)]
    job = sim.submitted("a cat", webhook=receiver.hook())
    attempts = sim.attempts(job["request_id"], 2)
    assert attempts[0]["status_code"] is None and "Timeout" in attempts[0]["error"]
    assert attempts[1]["ok"] is True


def test_unreachable_receiver_records_connection_errors(sim: Sim, receiver: Receiver) -> None:
    """A webhook URL nobody listens on records attempts with the exception and no status."""
    job = sim.submitted("a cat", webhook="http://127.0.0.1:9/hook")
    attempt = sim.attempts(job["request_id"], 1)[0]
    assert attempt["status_code"] is None and "ConnectError" in attempt["error"]


def test_admin_deliver_sends_the_webhook_again(sim: Sim, receiver: Receiver) -> None:
    """POST /_sim/requests/{id}/deliver re-sends the same body, freshly signed, and reports it."""
    job = sim.submitted("a cat", webhook=receiver.hook())
    first = receiver.wait(1)[0]
    sim.attempts(job["request_id"], 1)
    answer = sim.http.post(f"{sim.url}/_sim/requests/{job['request_id']}/deliver").json()
    assert (answer["delivery"], answer["trigger"], answer["status_code"]) == (2, "admin", 200)
    second = receiver.wait(2)[1]
    assert second.body == first.body
    assert verifies(sim.http.get(f"{sim.url}/.well-known/jwks.json").json(), second)


def test_admin_deliver_refuses_unfinished_or_hookless_jobs(sim: Sim, receiver: Receiver) -> None:
    """Redelivery answers 409 for a job still running or without a webhook, 404 for unknown ids."""
    running = sim.submitted("a cat", webhook=receiver.hook())
    hookless = sim.submitted("a cat")
    for job in (running, hookless):
        assert sim.http.post(f"{sim.url}/_sim/requests/{job['request_id']}/deliver").status_code == 409
    assert sim.http.post(f"{sim.url}/_sim/requests/nope/deliver").status_code == 404
