"""ED25519 webhook signing and the JWKS that publishes its public key."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class Signer:
    """Signs webhook deliveries with one ED25519 key."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._public_raw = raw
        self.kid = hashlib.sha256(raw).hexdigest()[:16]

    def jwks(self) -> dict[str, Any]:
        """Return the JSON Web Key Set holding the public key."""
        x = base64.urlsafe_b64encode(self._public_raw).rstrip(b"=").decode("ascii")
        key = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "use": "sig", "alg": "EdDSA"}
        return {"keys": [key]}

    def sign(self, request_id: str, user_id: str, timestamp: str, body: bytes) -> str:
        """Return the hex signature fal puts in X-Fal-Webhook-Signature."""
        return self._key.sign(signed_message(request_id, user_id, timestamp, body)).hex()


def signed_message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    """Build the byte string fal signs: ids, timestamp and the body's SHA-256."""
    digest = hashlib.sha256(body).hexdigest()
    return f"{request_id}\n{user_id}\n{timestamp}\n{digest}".encode()


def load_signer(key_file: Path) -> Signer:
    """Load the signing key from key_file, creating it on first use."""
    if not key_file.exists():
        _write_new_key(key_file)
    key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{key_file} does not hold an Ed25519 private key")
    return Signer(key)


def _write_new_key(key_file: Path) -> None:
    """Create a key file readable only by its owner, atomically."""
    key_file.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    # A concurrent starter may have won the race; keep whichever key landed first.
    try:
        os.link(temporary, key_file)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
