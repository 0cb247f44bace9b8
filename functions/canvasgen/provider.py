"""fal.ai's queue: submit a job with a webhook, ask its status, fetch its result, cancel it.

Submit is never retried here: fal has no idempotency key, so a retried POST whose first answer was
lost would start (and bill) a second job. A failed submit fails the node instead; a job whose answer
was lost after fal accepted it still reaches us through the webhook URL, which names our job id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from canvasgen.config import Settings
from canvasgen.errors import ProviderRejected, ProviderUnavailable
from canvasgen.jobs import Submission


@dataclass(frozen=True)
class ProviderStatus:
    """A job's status as the provider reports it."""

    status: str  # IN_QUEUE, IN_PROGRESS, COMPLETED, or NOT_FOUND when the provider does not know it
    queue_position: int | None = None
    error: str | None = None


class FalQueue:
    """A client of fal's queue REST API."""

    def __init__(self, settings: Settings, client: httpx.Client) -> None:
        self._base = settings.fal_queue_url.rstrip("/")
        self._headers = {"Authorization": f"Key {settings.fal_key.get_secret_value()}"}
        self._client = client
        self._timeout = settings.provider_timeout_seconds

    def submit(self, endpoint: str, payload: dict[str, Any], webhook_url: str) -> Submission:
        """Enqueue a job that calls `webhook_url` when it ends."""
        body = self._request(
            "POST", f"{self._base}/{endpoint}", json=payload, params={"fal_webhook": webhook_url}
        )
        try:
            return Submission(
                request_id=str(body["request_id"]),
                status_url=str(body["status_url"]),
                response_url=str(body["response_url"]),
                cancel_url=str(body["cancel_url"]),
            )
        except (KeyError, TypeError) as exc:
            msg = "the provider's answer to submit lacks the request id or URLs"
            raise ProviderUnavailable(msg) from exc

    def result(self, response_url: str) -> dict[str, Any]:
        """Fetch a completed job's output."""
        return self._request("GET", response_url)

    def status(self, status_url: str) -> ProviderStatus:
        """Ask for a job's status."""
        try:
            body = self._request("GET", status_url)
        except ProviderRejected as exc:
            if exc.details and exc.details.get("status") == 404:
                return ProviderStatus("NOT_FOUND")
            raise
        position = body.get("queue_position")
        error = body.get("error")
        return ProviderStatus(
            status=str(body.get("status")),
            queue_position=position if isinstance(position, int) else None,
            error=str(error) if error else None,
        )

    def cancel(self, cancel_url: str) -> str:
        """Ask the provider to cancel; return CANCELLATION_REQUESTED, ALREADY_COMPLETED or NOT_FOUND."""
        response = self._send("PUT", cancel_url)
        if response.status_code in (202, 400, 404):
            status = _json(response).get("status")
            if isinstance(status, str):
                return status
        _raise_for(response)
        return "CANCELLATION_REQUESTED"

    def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, url, **kwargs)
        _raise_for(response)
        return _json(response)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._client.request(method, url, headers=self._headers, timeout=self._timeout, **kwargs)
        except httpx.HTTPError as exc:
            msg = f"the provider could not be reached ({type(exc).__name__})"
            raise ProviderUnavailable(msg) from exc


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        msg = f"the provider answered {response.status_code} with a body that is not JSON"
        raise ProviderUnavailable(msg) from exc
    if not isinstance(body, dict):
        msg = "the provider answered with JSON that is not an object"
        raise ProviderUnavailable(msg)
    return body


def _raise_for(response: httpx.Response) -> None:
    status = response.status_code
    if status < 400:
        return
    detail = _detail(response)
    if status in (408, 429) or status >= 500:
        msg = f"the provider is unavailable (HTTP {status}): {detail}"
        raise ProviderUnavailable(msg, details={"status": status})
    msg = f"the provider refused the request (HTTP {status}): {detail}"
    raise ProviderRejected(msg, details={"status": status, "detail": _detail_json(response)})


def _detail(response: httpx.Response) -> str:
    detail = _detail_json(response)
    if isinstance(detail, str):
        return detail[:300]
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("msg", detail[0]))[:300]
    return response.reason_phrase or "no detail"


def _detail_json(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail", body.get("status")) if isinstance(body, dict) else body
