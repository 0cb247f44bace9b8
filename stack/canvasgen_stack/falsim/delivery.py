"""Webhook delivery the way fal does it: signed POSTs, retried until a 2xx, every attempt recorded."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx

from canvasgen_stack.falsim.queue import Job, State
from canvasgen_stack.falsim.signing import Signer

PAYLOAD_ERROR = (
    "Response payload is not JSON serializable. Either return a JSON serializable object "
    "or use the queue endpoint to retrieve the response."
)
logger = logging.getLogger(__name__)


def webhook_body(job: Job) -> bytes:
    """Serialise the webhook body with Python's default json.dumps separators, as fal does."""
    body: dict[str, Any] = {"request_id": job.request_id, "gateway_request_id": job.request_id}
    if job.state is State.COMPLETED:
        body |= {"status": "OK", "payload": job.output}
        if not job.faults.null_payload:
            body["error"] = None
    elif job.state is State.FAILED and job.error is not None:
        body |= {"status": "ERROR", "error": f"Invalid status code: {job.error.http_status}"}
        body["payload"] = job.error.body
    else:
        raise ValueError(f"job {job.request_id} has nothing to deliver in state {job.state}")
    if job.faults.null_payload:
        body |= {"payload": None, "payload_error": PAYLOAD_ERROR}
    return json.dumps(body).encode()


class Deliverer:
    """Posts webhooks for finished jobs."""

    def __init__(self, signer: Signer, client: httpx.AsyncClient, user_id: str, timeout: float) -> None:
        self._signer = signer
        self._client = client
        self._user_id = user_id
        self._timeout = timeout

    def headers(self, job: Job, body: bytes) -> dict[str, str]:
        """Build fal's webhook headers with a fresh (or faulted) timestamp and signature."""
        timestamp = str(int(time.time()) - (job.faults.stale_timestamp or 0))
        # Signing a different body gives a well-formed signature that cannot verify.
        signed = body + b"\x00" if job.faults.bad_signature else body
        return {
            "Content-Type": "application/json",
            "X-Fal-Webhook-Request-Id": job.request_id,
            "X-Fal-Webhook-User-Id": self._user_id,
            "X-Fal-Webhook-Timestamp": timestamp,
            "X-Fal-Webhook-Signature": self._signer.sign(job.request_id, self._user_id, timestamp, signed),
        }

    async def deliver(self, job: Job, retry_delays: list[float]) -> None:
        """Run the scheduled deliveries of a finished job, honouring its faults."""
        if job.faults.drop or job.webhook_url is None:
            return
        await asyncio.sleep(job.faults.delay or 0)
        for delivery in range(1, (job.faults.duplicate or 1) + 1):
            for number, pause in enumerate([0.0, *retry_delays], start=1):
                await asyncio.sleep(pause)
                attempt = await self.attempt(job, delivery, number, "scheduled")
                if attempt["ok"]:
                    break

    async def attempt(self, job: Job, delivery: int, number: int, trigger: str) -> dict[str, Any]:
        """POST the webhook once, record the attempt on the job and return it."""
        if job.webhook_url is None:
            raise ValueError(f"job {job.request_id} has no webhook URL")
        body = webhook_body(job)
        headers = self.headers(job, body)
        record: dict[str, Any] = {"delivery": delivery, "attempt": number, "trigger": trigger}
        record |= {"sent_at": time.time(), "timestamp": headers["X-Fal-Webhook-Timestamp"]}
        started = time.monotonic()
        try:
            response = await asyncio.wait_for(
                self._client.post(job.webhook_url, content=body, headers=headers, timeout=self._timeout),
                self._timeout,
            )
        except (httpx.HTTPError, TimeoutError) as error:
            record |= {"status_code": None, "error": f"{type(error).__name__}: {error}".rstrip(": ")}
        else:
            record |= {"status_code": response.status_code, "error": None}
        record["ok"] = record["status_code"] is not None and 200 <= record["status_code"] < 300
        record["elapsed"] = round(time.monotonic() - started, 3)
        job.attempts.append(record)
        logger.info("webhook attempt", extra={"data": {"request_id": job.request_id, **record}})
        return record
