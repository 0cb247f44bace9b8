"""signatures: fal's ED25519 webhook scheme, with fresh timestamps and rotating keys."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.datastructures import Headers

from canvasgen.errors import ProviderUnavailable, Unauthorized
from canvasgen.signatures import WebhookVerifier, signed_message
from tests.unit.test_media import settings

BODY = json.dumps({"request_id": "r1", "status": "OK", "payload": {}}).encode()


def jwk(key: Ed25519PrivateKey, padded: bool = False) -> dict[str, str]:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x if padded else x.rstrip("=")}


class Keys:
    """A JWKS endpoint whose keys the test can rotate, counting fetches."""

    def __init__(self, *keys: Ed25519PrivateKey, padded: bool = False) -> None:
        self.keys, self.padded, self.fetches = list(keys), padded, 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        return httpx.Response(200, json={"keys": [jwk(k, self.padded) for k in self.keys]})


def verifier(keys: Keys, **overrides: Any) -> WebhookVerifier:
    client = httpx.Client(transport=httpx.MockTransport(keys.handler))
    return WebhookVerifier(settings(**overrides), client)


def headers(key: Ed25519PrivateKey, body: bytes = BODY, timestamp: int | None = None) -> Headers:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = key.sign(signed_message("r1", "u1", ts, body)).hex()
    return Headers(
        {
            "X-Fal-Webhook-Request-Id": "r1",
            "X-Fal-Webhook-User-Id": "u1",
            "X-Fal-Webhook-Timestamp": ts,
            "X-Fal-Webhook-Signature": signature,
        }
    )


def test_message_binds_ids_timestamp_and_body_digest() -> None:
    """The signed message is request id, user id, timestamp and the body's SHA-256 hex, joined by newlines."""
    assert signed_message("r", "u", "1", b"{}") == (
        b"r\nu\n1\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    )


@pytest.mark.parametrize("padded", [False, True])
def test_a_genuine_delivery_verifies(padded: bool) -> None:
    """A delivery signed by a published key verifies, whether the JWKS pads `x` or not."""
    key = Ed25519PrivateKey.generate()
    verifier(Keys(key, padded=padded)).verify(headers(key), BODY)


def test_keys_are_cached() -> None:
    """Verifying many deliveries fetches the JWKS once."""
    key = Ed25519PrivateKey.generate()
    keys = Keys(key)
    check = verifier(keys)
    for _ in range(5):
        check.verify(headers(key), BODY)
    assert keys.fetches == 1


def test_a_rotated_key_is_fetched_again() -> None:
    """When no cached key verifies, the JWKS is fetched again once, so a rotation does not drop deliveries."""
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys = Keys(old)
    check = verifier(keys)
    check.verify(headers(old), BODY)
    check._fetched_at -= 120  # the last fetch was over a minute ago
    keys.keys = [new]
    check.verify(headers(new), BODY)
    assert keys.fetches == 2


@pytest.mark.parametrize(
    "problem", ["missing", "tampered", "other-key", "stale", "future", "not-hex", "bad-ts"]
)
def test_unverified_deliveries_are_refused(problem: str) -> None:
    """Missing headers, a changed body, a foreign key, a stale timestamp or a malformed value raise 401."""
    key = Ed25519PrivateKey.generate()
    now = int(time.time())
    cases = {
        "missing": (Headers({"X-Fal-Webhook-Request-Id": "r1"}), BODY),
        "tampered": (headers(key), BODY + b" "),
        "other-key": (headers(Ed25519PrivateKey.generate()), BODY),
        "stale": (headers(key, timestamp=now - 301), BODY),
        "future": (headers(key, timestamp=now + 301), BODY),
        "not-hex": (Headers({**dict(headers(key)), "X-Fal-Webhook-Signature": "xyz"}), BODY),
        "bad-ts": (Headers({**dict(headers(key)), "X-Fal-Webhook-Timestamp": "soon"}), BODY),
    }
    given, body = cases[problem]
    with pytest.raises(Unauthorized):
        verifier(Keys(key)).verify(given, body)


def test_unreachable_keys_are_a_transient_failure() -> None:
    """When the JWKS cannot be fetched the webhook answers 503, so fal retries."""
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    key = Ed25519PrivateKey.generate()
    with pytest.raises(ProviderUnavailable):
        WebhookVerifier(settings(), client).verify(headers(key), BODY)
