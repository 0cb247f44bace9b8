"""The errors of canvasgen, and the one place that gives each its HTTP status.

    CanvasgenError                 500 internal
    ├── InvalidRequest             400 (invalid_json, validation_failed, unknown_model, ...)
    ├── Unauthorized               401 (missing_token, invalid_token, token_expired, invalid_signature)
    ├── Forbidden                  403
    ├── NotFound                   404 (project_not_found, node_not_found, ...)
    ├── MethodNotAllowed           405
    ├── Conflict                   409 (generation_in_progress, ...)
    ├── PayloadTooLarge            413
    ├── ProviderRejected           502 the provider refused the job
    ├── ProviderUnavailable        503 the provider could not be reached or failed
    ├── MediaRefused               422 the media URL or size is not acceptable (permanent)
    └── Unavailable                503 storage, database or media download failed (transient)
        ├── DatabaseUnavailable
        ├── StorageUnavailable
        └── MediaUnavailable

Lower-level errors (psycopg, httpx, botocore) are translated where they are raised, `from` the original.
"""

from __future__ import annotations

from typing import Any, ClassVar


class CanvasgenError(Exception):
    """Root of every error a function answers with."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Any = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details
        self.extra = extra or {}

    def to_body(self) -> dict[str, Any]:
        """Return the JSON error body: `{"error": {"code", "message", "details"?}}` and any extra keys."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error, **self.extra}


class InvalidRequest(CanvasgenError):
    status = 400
    default_code = "invalid_request"


class Unauthorized(CanvasgenError):
    status = 401
    default_code = "unauthorized"


class Forbidden(CanvasgenError):
    status = 403
    default_code = "forbidden"


class NotFound(CanvasgenError):
    status = 404
    default_code = "not_found"


class MethodNotAllowed(CanvasgenError):
    status = 405
    default_code = "method_not_allowed"


class Conflict(CanvasgenError):
    status = 409
    default_code = "conflict"


class PayloadTooLarge(CanvasgenError):
    status = 413
    default_code = "payload_too_large"


class MediaRefused(CanvasgenError):
    status = 422
    default_code = "media_refused"


class ProviderRejected(CanvasgenError):
    status = 502
    default_code = "provider_rejected"


class ProviderUnavailable(CanvasgenError):
    status = 503
    default_code = "provider_unavailable"


class Unavailable(CanvasgenError):
    status = 503
    default_code = "unavailable"


class DatabaseUnavailable(Unavailable):
    default_code = "database_unavailable"


class StorageUnavailable(Unavailable):
    default_code = "storage_unavailable"


class MediaUnavailable(Unavailable):
    default_code = "media_unavailable"
