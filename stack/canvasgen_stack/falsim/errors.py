"""fal-shaped error responses."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.responses import JSONResponse

# fal's infrastructure error types (X-Fal-Error-Type) for the 5xx codes a submit can fail with.
_ERROR_TYPES = {
    500: "internal_error",
    502: "runner_disconnected",
    503: "runner_scheduling_failure",
    504: "request_timeout",
}


def detail(message: str, status_code: int) -> JSONResponse:
    """Answer {"detail": message} with status_code."""
    return JSONResponse({"detail": message}, status_code=status_code)


def validation(field: list[str], message: str, error_type: str = "value_error") -> JSONResponse:
    """Answer 422 with a one-item fal/pydantic validation error list."""
    return JSONResponse({"detail": [{"loc": field, "msg": message, "type": error_type}]}, status_code=422)


def submit_failure(status_code: int) -> JSONResponse:
    """Answer a submit with the error a fal queue gives for status_code."""
    phrase = _phrase(status_code)
    if status_code == 422:
        return validation(["body"], "Request rejected by the model input validation.")
    if status_code >= 500:
        error_type = _ERROR_TYPES.get(status_code, "internal_error")
        body: dict[str, Any] = {"detail": phrase, "error_type": error_type}
        headers = {"X-Fal-Error-Type": error_type, "X-Fal-Retryable": "true"}
        return JSONResponse(body, status_code=status_code, headers=headers)
    return detail(phrase, status_code)


def _phrase(status_code: int) -> str:
    """Return the standard reason phrase of a status code."""
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"
