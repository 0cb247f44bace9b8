"""The HTTP edge of every function: body limits, JSON parsing, CORS, and errors mapped to answers.

This is the one place where an error becomes a status code and a JSON body; anything unexpected
becomes a 500 with a generic message (the stack trace goes to the log, never to the caller).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import flask
from pydantic import BaseModel, ValidationError

from canvasgen import logs
from canvasgen.errors import CanvasgenError, InvalidRequest, MethodNotAllowed, PayloadTooLarge
from canvasgen.services import Services, get_services

log = logs.get_logger("http")
Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[flask.Request, Services], "flask.Response | BaseModel"]
CORS_HEADERS = {
    "Access-Control-Allow-Headers": "authorization, x-client-info, apikey, content-type",
    "Access-Control-Max-Age": "3600",
}


def serve(
    request: flask.Request, handler: Handler, methods: tuple[str, ...], status: int = 200
) -> flask.Response:
    """Run one handler for a request and turn its result or error into a response."""
    services = get_services()
    trace = logs.trace_field(
        request.headers.get("X-Cloud-Trace-Context"), services.settings.google_cloud_project
    )
    with logs.context(**trace):
        if request.method == "OPTIONS":
            response = flask.Response(status=204)
        else:
            response = _answer(request, handler, methods, services, status)
    return _with_cors(response, methods, services.settings.cors_allow_origin)


def _answer(
    request: flask.Request, handler: Handler, methods: tuple[str, ...], services: Services, status: int
) -> flask.Response:
    try:
        if request.method not in methods:
            msg = f"use {' or '.join(methods)}"
            raise MethodNotAllowed(msg)
        result = handler(request, services)
    except CanvasgenError as exc:
        level = log.error if exc.status >= 500 else log.info
        level("request refused", extra={"status": exc.status, "errorCode": exc.code, "error": exc.message})
        return json_response(exc.to_body(), exc.status)
    except Exception:
        log.exception("unexpected error")
        return json_response({"error": {"code": "internal", "message": "an unexpected error occurred"}}, 500)
    if isinstance(result, BaseModel):
        return json_response(result.model_dump(mode="json", by_alias=True, exclude_none=True), status)
    return result


def json_response(body: Any, status: int) -> flask.Response:
    """Return a JSON response."""
    return flask.Response(json.dumps(body), status=status, mimetype="application/json")


def _with_cors(response: flask.Response, methods: tuple[str, ...], origin: str) -> flask.Response:
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Allow-Methods"] = ", ".join((*methods, "OPTIONS"))
    response.headers.update(CORS_HEADERS)
    return response


def raw_body(request: flask.Request, limit: int) -> bytes:
    """Return the request body, refusing one over `limit` bytes without reading it all."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    while size <= limit and (chunk := request.stream.read(min(65536, limit + 1 - size))):
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise _too_large(limit)
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the body is larger than {limit} bytes")


def parse_body(request: flask.Request, model: type[Model], limit: int) -> Model:
    """Parse and validate a JSON body, with one detail per invalid field."""
    body = raw_body(request, limit)
    try:
        data = json.loads(body)
    except ValueError as exc:
        msg = "the body is not valid JSON"
        raise InvalidRequest(msg, code="invalid_json") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors(include_url=False)
        ]
        msg = "the body failed validation"
        raise InvalidRequest(msg, code="validation_failed", details=details) from exc
