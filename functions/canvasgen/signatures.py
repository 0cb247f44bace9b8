"""Verification of fal's webhook signatures (ED25519 over a message that binds the body).

fal signs `request_id + "\\n" + user_id + "\\n" + timestamp + "\\n" + sha256_hex(raw_body)` with an
ED25519 key published in a JWKS, and sends the hex signature in `X-Fal-Webhook-Signature`. The
timestamp must be within a tolerance of now, which bounds replays. Keys are cached at most as long as
configured (never over 24 h, as fal asks) and fetched again once when no cached key verifies, so a
key rotation does not drop deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from werkzeug.datastructures import Headers

from canvasgen.config import Settings
from canvasgen.errors import ProviderUnavailable, Unauthorized

HEADERS = (
    "X-Fal-Webhook-Request-Id",
    "X-Fal-Webhook-User-Id",
    "X-Fal-Webhook-Timestamp",
    "X-Fal-Webhook-Signature",
)


def signed_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """Return the bytes fal signs for one delivery."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((request_id, user_id, timestamp, digest)).encode()


class WebhookVerifier:
    """Check that a delivery was signed by fal and is fresh."""

    def __init__(self, settings: Settings, client: httpx.Client) -> None:
        self._url = settings.fal_jwks_url
        self._client = client
        self._tolerance = settings.webhook_tolerance_seconds
        self._max_age = settings.jwks_cache_seconds
        self._keys: list[Ed25519PublicKey] = []
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def verify(self, headers: Headers, body: bytes, now: float | None = None) -> None:
        """Raise Unauthorized unless the headers carry a fresh, valid signature of the body."""
        values = [headers.get(name) for name in HEADERS]
        if not all(values):
            missing = [name for name, value in zip(HEADERS, values, strict=True) if not value]
            msg = "the webhook signature headers are missing"
            raise Unauthorized(msg, code="invalid_signature", details={"missing": missing})
        request_id, user_id, timestamp, signature = (str(value) for value in values)
        self._check_timestamp(timestamp, time.time() if now is None else now)
        try:
            signature_bytes = bytes.fromhex(signature)
        except ValueError:
            msg = "the webhook signature is not hexadecimal"
            raise Unauthorized(msg, code="invalid_signature") from None
        message = signed_message(request_id, user_id, timestamp, body)
        if not self._any_key_verifies(signature_bytes, message):
            msg = "the webhook signature does not verify"
            raise Unauthorized(msg, code="invalid_signature")

    def _check_timestamp(self, timestamp: str, now: float) -> None:
        try:
            sent = int(timestamp)
        except ValueError:
            msg = "the webhook timestamp is not a number"
            raise Unauthorized(msg, code="invalid_signature") from None
        if abs(now - sent) > self._tolerance:
            msg = f"the webhook timestamp is more than {self._tolerance} s from now"
            raise Unauthorized(msg, code="stale_signature")

    def _any_key_verifies(self, signature: bytes, message: bytes) -> bool:
        if _verifies(self._cached_keys(), signature, message):
            return True
        if time.monotonic() - self._fetched_at < 60:
            return False
        return _verifies(self._refresh(), signature, message)

    def _cached_keys(self) -> list[Ed25519PublicKey]:
        if time.monotonic() - self._fetched_at > self._max_age:
            return self._refresh()
        return self._keys

    def _refresh(self) -> list[Ed25519PublicKey]:
        with self._lock:
            self._keys = _fetch_keys(self._client, self._url)
            self._fetched_at = time.monotonic()
            return self._keys


def _verifies(keys: list[Ed25519PublicKey], signature: bytes, message: bytes) -> bool:
    for key in keys:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False


def _fetch_keys(client: httpx.Client, url: str) -> list[Ed25519PublicKey]:
    try:
        response = client.get(url, timeout=10.0)
        response.raise_for_status()
        entries = response.json().get("keys", [])
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        msg = "the provider's signing keys could not be fetched"
        raise ProviderUnavailable(msg) from exc
    keys = []
    for entry in entries:
        x = entry.get("x") if isinstance(entry, dict) else None
        if isinstance(x, str):
            # fal's published `x` is sometimes padded and sometimes not.
            raw = base64.urlsafe_b64decode(x.rstrip("=") + "=" * (-len(x.rstrip("=")) % 4))
            if len(raw) == 32:
                keys.append(Ed25519PublicKey.from_public_bytes(raw))
    return keys
