"""Verify the JWTs that open a socket and authorize a channel, as Supabase Realtime does.

Supabase Realtime accepts an HS256/384/512 token signed with the project's secret that carries
`role` and `exp`; `aud` is not checked. Its error texts are kept, so a client shows the same
reason it would show against Supabase.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import jwt

ALGORITHMS = ["HS256", "HS384", "HS512"]


class TokenError(Exception):
    """A token that does not authorize a socket or a channel."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def reason(self) -> str:
        """Return the `Code: message` text Supabase puts in a join error."""
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class Claims:
    """The verified claims of one token."""

    token: str
    values: dict[str, Any]

    @property
    def role(self) -> str:
        return str(self.values["role"])

    @property
    def expires_at(self) -> int:
        return int(self.values["exp"])

    @cached_property
    def text(self) -> str:
        """Return the claims as the JSON text policies read from `request.jwt.claims`."""
        return json.dumps(self.values, separators=(",", ":"), sort_keys=True)

    def expired(self, now: float | None = None) -> bool:
        """Tell whether the token's `exp` has passed."""
        return self.expires_at <= int(time.time() if now is None else now)


def verify(token: str, secret: str, now: float | None = None) -> Claims:
    """Return the claims of a valid token or raise `TokenError` with Supabase's wording."""
    token = "".join(token.split())
    values = _decode(token, secret)
    role, expiry = values.get("role"), values.get("exp")
    if role is None or expiry is None:
        raise TokenError("InvalidJWTToken", "Fields `role` and `exp` are required in JWT")
    if not isinstance(role, str) or not isinstance(expiry, int) or isinstance(expiry, bool) or expiry <= 0:
        raise TokenError("InvalidJWTToken", "Token expiration time is invalid")
    claims = Claims(token, values)
    if claims.expired(now):
        ago = int(time.time() if now is None else now) - expiry
        raise TokenError("InvalidJWTToken", f"Token has expired {ago} seconds ago")
    return claims


def _decode(token: str, secret: str) -> dict[str, Any]:
    # Expiry is checked by the caller, to report it the way Supabase does.
    try:
        values = jwt.decode(
            token, secret, algorithms=ALGORITHMS, options={"verify_exp": False, "verify_aud": False}
        )
    except jwt.InvalidSignatureError as exc:
        raise TokenError("JwtSignatureError", "Failed to validate JWT signature") from exc
    except (jwt.DecodeError, jwt.InvalidAlgorithmError) as exc:
        raise TokenError("MalformedJWT", "The token provided is not a valid JWT") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError("InvalidJWTToken", str(exc)) from exc
    if not isinstance(values, dict):
        raise TokenError("MalformedJWT", "The token provided is not a valid JWT")
    return values
