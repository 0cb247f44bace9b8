"""Google-signed OIDC tokens: how Cloud Scheduler proves that it is the caller of `reconcile`.

A scheduler job configured with `--oidc-service-account-email` and `--oidc-token-audience` sends
`Authorization: Bearer <ID token>`: a JWT that Google signs with RS256 keys published as a JWKS, whose
`aud` is the audience the job names (the function's URL) and whose `email` is the job's service account.
No secret is stored in the job, and nothing but Google can mint such a token.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import jwt

from canvasgen.errors import Forbidden, Unauthorized

GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")


def issued_by_google(authorization: str | None) -> bool:
    """Tell, without verifying anything, whether a bearer token claims to come from Google."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        claims = jwt.decode(token.strip(), options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    return claims.get("iss") in GOOGLE_ISSUERS


class ServiceAccountVerifier:
    """Accept only Google ID tokens minted for one service account and one audience."""

    def __init__(self, email: str, audience: str, jwks_url: str = GOOGLE_JWKS_URL, cache_seconds: int = 3600):
        self._email = email
        self._audience = audience
        self._jwks_url = jwks_url
        self._cache_seconds = cache_seconds

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(self._jwks_url, cache_keys=True, lifespan=self._cache_seconds)

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """Return the token's claims, or refuse a token that is invalid or names another account."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            msg = "an Authorization: Bearer token is required"
            raise Unauthorized(msg, code="missing_token")
        claims = self._decode(token.strip())
        if claims.get("email") != self._email or claims.get("email_verified") is not True:
            msg = "this function is for the scheduler's service account only"
            raise Forbidden(msg, code="service_account_required")
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        options = {"require": ["exp", "iat", "iss", "aud"]}
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                # Only the algorithm of the key that signed it, so no other algorithm can be tried on it.
                algorithms=[key.algorithm_name],
                audience=self._audience,
                issuer=GOOGLE_ISSUERS,
                options=options,  # type: ignore[arg-type]
            )
        except jwt.ExpiredSignatureError as exc:
            msg = "the token has expired"
            raise Unauthorized(msg, code="token_expired") from exc
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            msg = "the token is not valid"
            raise Unauthorized(msg, code="invalid_token") from exc
        return claims
