"""Who is calling: verification of Supabase access tokens (HS256 secret or the project's JWKS)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from uuid import UUID

import jwt

from canvasgen.config import Settings
from canvasgen.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Caller:
    """The verified subject of a request."""

    role: str
    user_id: UUID | None
    claims: dict[str, Any]


class TokenVerifier:
    """Verify bearer tokens against the project's secret or its published keys."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient | None:
        url = self._settings.jwks_url
        return (
            jwt.PyJWKClient(url, cache_keys=True, lifespan=self._settings.jwks_cache_seconds) if url else None
        )

    def caller(self, authorization: str | None) -> Caller:
        """Return the caller named by an `Authorization: Bearer` header."""
        token = _bearer(authorization)
        claims = self._decode(token)
        role = claims.get("role")
        if not isinstance(role, str) or not role:
            msg = "the token has no role"
            raise Unauthorized(msg, code="invalid_token")
        return Caller(role=role, user_id=_subject(claims), claims=claims)

    def user(self, authorization: str | None) -> Caller:
        """Return the caller, who must be a signed-in user."""
        caller = self.caller(authorization)
        if caller.role != "authenticated" or caller.user_id is None:
            msg = "a signed-in user's access token is required"
            raise Unauthorized(msg, code="invalid_token")
        return caller

    def service(self, authorization: str | None) -> Caller:
        """Return the caller, who must hold the service role."""
        caller = self.caller(authorization)
        if caller.role != "service_role":
            msg = "this function is for the service role only"
            raise Forbidden(msg, code="service_role_required")
        return caller

    def _decode(self, token: str) -> dict[str, Any]:
        options = {"require": ["exp", "role"], "verify_aud": False}
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") == "HS256" and self._settings.jwt_secret is not None:
                key: Any = self._settings.jwt_secret.get_secret_value()
                algorithms = ["HS256"]
            elif self._jwks is not None:
                signing_key = self._jwks.get_signing_key_from_jwt(token)
                key = signing_key.key
                # Only the algorithm of the key named by `kid`: another one tried on it raises TypeError.
                algorithms = [signing_key.algorithm_name]
            else:
                msg = "the token is signed with an algorithm this project does not use"
                raise Unauthorized(msg, code="invalid_token")
            claims: dict[str, Any] = jwt.decode(token, key, algorithms=algorithms, options=options)  # type: ignore[arg-type]
        except jwt.ExpiredSignatureError as exc:
            msg = "the token has expired"
            raise Unauthorized(msg, code="token_expired") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            msg = "the token is not valid"
            raise Unauthorized(msg, code="invalid_token") from exc
        return claims


def _bearer(authorization: str | None) -> str:
    if not authorization:
        msg = "an Authorization: Bearer token is required"
        raise Unauthorized(msg, code="missing_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        msg = "the Authorization header must be 'Bearer <token>'"
        raise Unauthorized(msg, code="missing_token")
    return token.strip()


def _subject(claims: dict[str, Any]) -> UUID | None:
    subject = claims.get("sub")
    if subject is None:
        return None
    try:
        return UUID(str(subject))
    except ValueError:
        return None
