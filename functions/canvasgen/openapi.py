"""The OpenAPI 3.1 description of the functions, built from the wire models and one table.

Each function of `canvasgen.routes.FUNCTIONS` has one row in `OPERATIONS`: its method, request and
response models, success status and the error codes it can answer with. Schemas come from the pydantic
models (JSON Schema 2020-12, which OpenAPI 3.1 uses as is), so the document cannot drift from the code;
`docs/openapi.json` is this document, written by `canvasgen openapi`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from canvasgen.models import (
    CancelAnswer,
    CancelRequest,
    ErrorBody,
    FalWebhook,
    ProjectView,
    ReconcileReport,
    SaveAnswer,
    SaveRequest,
    SubmitAccepted,
    SubmitRequest,
    WebhookAnswer,
)

Caller = Literal["user", "fal", "service"]
TOKEN = ("missing_token", "invalid_token", "token_expired")
DATABASE = ("database_unavailable",)
FAL_HEADERS = ("Request-Id", "User-Id", "Timestamp", "Signature")


@dataclass(frozen=True)
class Operation:
    """One function as HTTP sees it."""

    name: str
    method: Literal["get", "post"]
    summary: str
    caller: Caller
    response: type[BaseModel]
    errors: dict[int, tuple[str, ...]]
    request: type[BaseModel] | None = None
    success: int = 200
    # name → (description, required)
    query: dict[str, tuple[str, bool]] = field(default_factory=dict)


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "submit",
        "post",
        "Start a generation for a canvas node; the node shows it as pending",
        "user",
        SubmitAccepted,
        request=SubmitRequest,
        success=202,
        errors={
            400: ("invalid_json", "validation_failed", "unknown_model"),
            401: TOKEN,
            404: ("project_not_found", "node_not_found"),
            409: ("generation_in_progress",),
            413: ("payload_too_large",),
            502: ("provider_rejected",),
            503: ("provider_unavailable", *DATABASE),
        },
    ),
    Operation(
        "fal-webhook",
        "post",
        "Receive fal's signed webhook and finish the job",
        "fal",
        WebhookAnswer,
        request=FalWebhook,
        query={"job": ("our job id, carried in the webhook URL", False)},
        errors={
            400: ("invalid_webhook",),
            401: ("invalid_signature", "stale_signature"),
            413: ("payload_too_large",),
            503: (
                "provider_unavailable",
                "storage_unavailable",
                "media_unavailable",
                "media_timeout",
                "result_not_ready",
                *DATABASE,
            ),
        },
    ),
    Operation(
        "project",
        "get",
        "Return one of the caller's projects with its canvas",
        "user",
        ProjectView,
        query={"id": ("the project's id", True)},
        errors={400: ("validation_failed",), 401: TOKEN, 404: ("project_not_found",), 503: DATABASE},
    ),
    Operation(
        "save",
        "post",
        "Save a canvas without undoing the server's generation state",
        "user",
        SaveAnswer,
        request=SaveRequest,
        errors={
            400: ("invalid_json", "validation_failed"),
            401: TOKEN,
            404: ("project_not_found",),
            409: ("version_conflict",),
            413: ("payload_too_large",),
            503: DATABASE,
        },
    ),
    Operation(
        "cancel",
        "post",
        "Cancel a node's running generation",
        "user",
        CancelAnswer,
        request=CancelRequest,
        errors={
            400: ("invalid_json", "validation_failed"),
            401: TOKEN,
            404: ("project_not_found", "node_not_found"),
            409: ("not_cancellable", "already_completed"),
            413: ("payload_too_large",),
            503: ("provider_unavailable", *DATABASE),
        },
    ),
    Operation(
        "reconcile",
        "post",
        "Recover generations whose webhook never came (called by the scheduler)",
        "service",
        ReconcileReport,
        errors={401: TOKEN, 403: ("service_role_required", "service_account_required"), 503: DATABASE},
    ),
)
# Every function can answer these.
COMMON_ERRORS: dict[int, tuple[str, ...]] = {405: ("method_not_allowed",), 500: ("internal",)}


def document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every function."""
    schemas = _schemas()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "canvasgen functions",
            "version": "1",
            "description": "Generations on AI canvas nodes. Errors are always "
            '`{"error": {"code", "message", "details"?}}`.',
        },
        "servers": [
            {"url": "http://127.0.0.1:54321/functions/v1", "description": "the local stack (`make dev`)"},
            {
                "url": "https://{region}-{project}.cloudfunctions.net",
                "description": "Cloud Functions",
                "variables": {
                    "region": {"default": "europe-west1"},
                    "project": {"default": "canvasgen-prod"},
                },
            },
        ],
        "paths": {f"/{op.name}": {op.method: _operation(op)} for op in OPERATIONS},
        "components": {"schemas": schemas, "securitySchemes": _security_schemes()},
    }


def _schemas() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (ErrorBody, "serialization")
    ]
    for op in OPERATIONS:
        if op.request is not None:
            models.append((op.request, "validation"))
        models.append((op.response, "serialization"))
    _, top = models_json_schema(models, by_alias=True, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = top["$defs"]
    # Some errors add keys beside `error` (a save conflict carries the current canvas).
    schemas["ErrorBody"].pop("additionalProperties", None)
    return schemas


def _operation(op: Operation) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": op.name.replace("-", "_"),
        "summary": op.summary,
        "security": _security(op.caller),
        "responses": {
            str(op.success): {
                "description": HTTPStatus(op.success).phrase,
                "content": {"application/json": {"schema": _ref(op.response)}},
            },
            **{str(status): _error(status, codes) for status, codes in _errors(op).items()},
        },
    }
    if op.query:
        operation["parameters"] = [
            {"name": name, "in": "query", "required": required, "description": text, "schema": _uuid()}
            for name, (text, required) in op.query.items()
        ]
    if op.request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(op.request)}},
        }
    return operation


def _errors(op: Operation) -> dict[int, tuple[str, ...]]:
    return dict(sorted({**op.errors, **COMMON_ERRORS}.items()))


def _error(status: int, codes: tuple[str, ...]) -> dict[str, Any]:
    listed = ", ".join(f"`{code}`" for code in codes)
    return {
        "description": f"{HTTPStatus(status).phrase}: {listed}",
        "content": {"application/json": {"schema": _ref(ErrorBody)}},
    }


def _security(caller: Caller) -> list[dict[str, list[str]]]:
    if caller == "fal":
        return [{f"falWebhook{part.replace('-', '')}": [] for part in FAL_HEADERS}]
    if caller == "service":
        return [{"serviceRole": []}, {"schedulerOidc": []}]
    return [{"userToken": []}]


def _security_schemes() -> dict[str, Any]:
    schemes: dict[str, Any] = {
        "userToken": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A signed-in user's Supabase access token.",
        },
        "serviceRole": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A token with the `service_role` role.",
        },
        "schedulerOidc": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Google-signed OIDC token of the scheduler's service account"
            " (CANVASGEN_SCHEDULER_SERVICE_ACCOUNT) for CANVASGEN_SCHEDULER_AUDIENCE.",
        },
    }
    for part in FAL_HEADERS:
        schemes[f"falWebhook{part.replace('-', '')}"] = {
            "type": "apiKey",
            "in": "header",
            "name": f"X-Fal-Webhook-{part}",
            "description": "fal signs request id, user id, timestamp and the body's SHA-256 with ED25519; "
            "all four headers are required.",
        }
    return schemes


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _uuid() -> dict[str, str]:
    return {"type": "string", "format": "uuid"}
