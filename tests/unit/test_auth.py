"""auth: user tokens signed with the project's asymmetric keys, fetched from its JWKS over HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from canvasgen.auth import TokenVerifier
from canvasgen.errors import Forbidden, Unauthorized
from tests.unit.jwks import JwksServer, serve_jwks
from tests.unit.test_media import settings

USER_ID = "a11ce000-0000-4000-8000-000000000001"
JWKS_PATH = "/auth/v1/.well-known/jwks.json"
HS256_SECRET = "legacy-secret-with-at-least-32-characters!"


@dataclass
class SigningKeys:
    """The project's signing keys, published at `url`."""

    rsa: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    ec: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    server: JwksServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    @property
    def fetches(self) -> int:
        assert self.server is not None
        return self.server.fetches

    def jwks(self) -> dict[str, Any]:
        rsa_key = RSAAlgorithm.to_jwk(self.rsa.public_key(), as_dict=True)
        ec_key = ECAlgorithm.to_jwk(self.ec.public_key(), as_dict=True)
        return {
            "keys": [
                {**rsa_key, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
                {**ec_key, "kid": "ec-1", "alg": "ES256", "use": "sig"},
            ]
        }

    def token(self, alg: str = "ES256", kid: str | None = None, **claims: Any) -> str:
        key: Any = self.rsa if alg == "RS256" else self.ec
        now = int(time.time())
        payload = {
            "sub": USER_ID,
            "role": "authenticated",
            "aud": "authenticated",
            "iat": now,
            "exp": now + 600,
        }
        kid = kid or ("rsa-1" if alg == "RS256" else "ec-1")
        merged = {name: value for name, value in {**payload, **claims}.items() if value is not None}
        return jwt.encode(merged, key, algorithm=alg, headers={"kid": kid})


@pytest.fixture
def keys() -> Iterator[SigningKeys]:
    """The project's keys, published as Supabase publishes them, on a loopback port."""
    keys = SigningKeys()
    with serve_jwks(keys.jwks, JWKS_PATH) as server:
        keys.server = server
        yield keys


def verifier(keys: SigningKeys, **overrides: Any) -> TokenVerifier:
    return TokenVerifier(settings(jwt_secret=None, jwks_url=keys.url, **overrides))


def bearer(token: str) -> str:
    return f"Bearer {token}"


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_token_signed_with_a_published_key_verifies(keys: SigningKeys, alg: str) -> None:
    """A user token signed with the project's RSA or EC key verifies through the JWKS."""
    caller = verifier(keys).user(bearer(keys.token(alg)))
    assert caller.role == "authenticated"
    assert caller.user_id == uuid.UUID(USER_ID)
    assert caller.claims["sub"] == USER_ID


def test_keys_are_fetched_once_and_cached(keys: SigningKeys) -> None:
    """The JWKS is fetched on first use and cached for later tokens of either key."""
    tokens = verifier(keys)
    for alg in ("RS256", "ES256", "RS256", "ES256"):
        tokens.user(bearer(keys.token(alg)))
    assert keys.fetches == 1


def test_an_expired_token_is_refused_as_expired(keys: SigningKeys) -> None:
    """An expired token answers token_expired, not a generic error."""
    token = keys.token("ES256", exp=int(time.time()) - 60)
    with pytest.raises(Unauthorized) as refused:
        verifier(keys).user(bearer(token))
    assert refused.value.code == "token_expired"


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda keys: keys.token("RS256", kid="ec-1"),
            id="rsa-signed-under-the-ec-kid",
        ),
        pytest.param(lambda keys: keys.token("ES256", kid="unknown"), id="unknown-kid"),
        pytest.param(
            lambda keys: jwt.encode(
                {"sub": USER_ID, "role": "authenticated", "exp": int(time.time()) + 600},
                ec.generate_private_key(ec.SECP256R1()),
                algorithm="ES256",
                headers={"kid": "ec-1"},
            ),
            id="another-key-same-kid",
        ),
        pytest.param(
            lambda keys: jwt.encode(
                {"sub": USER_ID, "role": "authenticated", "exp": int(time.time()) + 600}, HS256_SECRET
            ),
            id="hs256-without-a-secret",
        ),
        pytest.param(lambda keys: keys.token("ES256")[:-4] + "AAAA", id="tampered-signature"),
    ],
)
def test_a_forged_token_is_refused(keys: SigningKeys, forge: Any) -> None:
    """Tokens not signed by a published key (or signed with a secret the project does not use) fail."""
    with pytest.raises(Unauthorized) as refused:
        verifier(keys).user(bearer(forge(keys)))
    assert refused.value.code == "invalid_token"


def test_a_token_without_an_expiry_is_refused(keys: SigningKeys) -> None:
    """A token must carry `exp`; one without never verifies."""
    now = int(time.time())
    token = jwt.encode(
        {"sub": USER_ID, "role": "authenticated", "iat": now},
        keys.ec,
        algorithm="ES256",
        headers={"kid": "ec-1"},
    )
    with pytest.raises(Unauthorized):
        verifier(keys).user(bearer(token))


def test_an_unreachable_jwks_refuses_the_token(keys: SigningKeys) -> None:
    """When the JWKS cannot be fetched, the token is refused rather than trusted."""
    tokens = TokenVerifier(settings(jwt_secret=None, jwks_url=keys.url.replace(JWKS_PATH, "/missing")))
    with pytest.raises(Unauthorized) as refused:
        tokens.user(bearer(keys.token("ES256")))
    assert refused.value.code == "invalid_token"


def test_service_role_tokens_verify_through_the_jwks(keys: SigningKeys) -> None:
    """A service-role token signed with a published key passes service(); a user's does not."""
    tokens = verifier(keys)
    assert tokens.service(bearer(keys.token("RS256", role="service_role", sub=None))).role == "service_role"
    with pytest.raises(Forbidden):
        tokens.service(bearer(keys.token("RS256")))


def test_secret_and_jwks_together_accept_both_kinds(keys: SigningKeys) -> None:
    """During a key rotation both the legacy HS256 secret and the published keys are accepted."""
    tokens = TokenVerifier(settings(jwt_secret=HS256_SECRET, jwks_url=keys.url))
    now = int(time.time())
    legacy = jwt.encode({"sub": USER_ID, "role": "authenticated", "exp": now + 600}, HS256_SECRET)
    assert tokens.user(bearer(legacy)).user_id == uuid.UUID(USER_ID)
    assert tokens.user(bearer(keys.token("ES256"))).user_id == uuid.UUID(USER_ID)
