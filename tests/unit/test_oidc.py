"""oidc: only Google ID tokens for the scheduler's service account and the function's URL are accepted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from canvasgen.errors import Forbidden, Unauthorized
from canvasgen.oidc import ServiceAccountVerifier, issued_by_google
from tests.unit.jwks import JwksServer, serve_jwks

ACCOUNT = "canvasgen-scheduler@canvasgen-prod.iam.gserviceaccount.com"
AUDIENCE = "https://europe-west1-canvasgen-prod.cloudfunctions.net/reconcile"
GOOGLE_KEY = rsa.generate_private_key(65537, 2048)


def google_jwks() -> dict[str, Any]:
    return {
        "keys": [{**RSAAlgorithm.to_jwk(GOOGLE_KEY.public_key(), as_dict=True), "kid": "g1", "alg": "RS256"}]
    }


def id_token(key: Any = GOOGLE_KEY, **claims: Any) -> str:
    """Mint a token shaped like the one Cloud Scheduler sends."""
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": AUDIENCE,
        "azp": "111111111111111111111",
        "sub": "111111111111111111111",
        "email": ACCOUNT,
        "email_verified": True,
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return "Bearer " + jwt.encode(payload, key, algorithm="RS256", headers={"kid": "g1"})


@pytest.fixture
def google() -> Iterator[JwksServer]:
    """Google's certificate endpoint, played on a loopback port."""
    with serve_jwks(google_jwks, "/oauth2/v3/certs") as server:
        yield server


def verifier(google: JwksServer) -> ServiceAccountVerifier:
    return ServiceAccountVerifier(ACCOUNT, AUDIENCE, jwks_url=google.url)


def test_the_schedulers_token_is_accepted(google: JwksServer) -> None:
    """A Google-signed token for the configured account and audience verifies."""
    claims = verifier(google).verify(id_token())
    assert claims["email"] == ACCOUNT and claims["aud"] == AUDIENCE


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"aud": "https://europe-west1-canvasgen-prod.cloudfunctions.net/submit"}, "invalid_token"),
        ({"iss": "https://evil.example"}, "invalid_token"),
        ({"exp": int(time.time()) - 10}, "token_expired"),
    ],
    ids=["another-audience", "another-issuer", "expired"],
)
def test_a_token_for_something_else_is_refused(google: JwksServer, claims: dict[str, Any], code: str) -> None:
    """Another audience, another issuer or an expired token answers 401."""
    with pytest.raises(Unauthorized) as refused:
        verifier(google).verify(id_token(**claims))
    assert refused.value.code == code


@pytest.mark.parametrize(
    "claims",
    [{"email": "someone@canvasgen-prod.iam.gserviceaccount.com"}, {"email_verified": False}, {"email": None}],
    ids=["another-account", "unverified-email", "no-email"],
)
def test_another_identity_is_forbidden(google: JwksServer, claims: dict[str, Any]) -> None:
    """A valid Google token of any other identity answers 403."""
    with pytest.raises(Forbidden) as refused:
        verifier(google).verify(id_token(**claims))
    assert refused.value.code == "service_account_required"


def test_a_token_not_signed_by_google_is_refused(google: JwksServer) -> None:
    """The same claims signed with another key under Google's key id fail."""
    with pytest.raises(Unauthorized) as refused:
        verifier(google).verify(id_token(key=rsa.generate_private_key(65537, 2048)))
    assert refused.value.code == "invalid_token"


def test_a_symmetric_token_cannot_pose_as_google(google: JwksServer) -> None:
    """An HS256 token under Google's key id is refused: only the key's own algorithm is tried."""
    now = int(time.time())
    claims = {"iss": "https://accounts.google.com", "aud": AUDIENCE, "email": ACCOUNT, "email_verified": True}
    token = jwt.encode(
        {**claims, "iat": now, "exp": now + 60}, "x" * 32, algorithm="HS256", headers={"kid": "g1"}
    )
    with pytest.raises(Unauthorized):
        verifier(google).verify(f"Bearer {token}")


@pytest.mark.parametrize("authorization", [None, "", "Basic abc", "Bearer "])
def test_a_missing_token_is_refused(google: JwksServer, authorization: str | None) -> None:
    """Without a bearer token the answer is missing_token."""
    with pytest.raises(Unauthorized) as refused:
        verifier(google).verify(authorization)
    assert refused.value.code == "missing_token"


def test_google_tokens_are_told_apart_from_supabase_ones() -> None:
    """issued_by_google() picks the scheduler's tokens without verifying, so the right check runs."""
    assert issued_by_google(id_token())
    supabase = jwt.encode({"iss": "https://ref.supabase.co/auth/v1", "role": "service_role"}, "s" * 32)
    assert not issued_by_google(f"Bearer {supabase}")
    assert not issued_by_google("Bearer not-a-jwt")
    assert not issued_by_google(None)
