"""One handler per function: read the request, call one service, return a model."""

from __future__ import annotations

from uuid import UUID

import flask

from canvasgen import cancellation, canvases, generations, logs, oidc, projects, reconciliation, webhooks
from canvasgen.errors import InvalidRequest
from canvasgen.http import parse_body, raw_body
from canvasgen.models import (
    CancelAnswer,
    CancelRequest,
    ProjectView,
    ReconcileReport,
    SaveAnswer,
    SaveRequest,
    SubmitAccepted,
    SubmitRequest,
    WebhookAnswer,
)
from canvasgen.services import Services

WEBHOOK_BODY_LIMIT = 4 * 1024 * 1024


def submit(request: flask.Request, services: Services) -> SubmitAccepted:
    """POST /submit: start a generation for a node."""
    caller = services.tokens.user(request.headers.get("Authorization"))
    body = parse_body(request, SubmitRequest, services.settings.max_body_bytes)
    return generations.submit(services, caller, body)


def fal_webhook(request: flask.Request, services: Services) -> WebhookAnswer:
    """POST /fal-webhook: a signed delivery from fal's queue."""
    body = raw_body(request, WEBHOOK_BODY_LIMIT)
    return webhooks.receive(services, body, request.headers, request.args.get("job"))


def project(request: flask.Request, services: Services) -> ProjectView:
    """GET /project?id=: the caller's project with its canvas."""
    caller = services.tokens.user(request.headers.get("Authorization"))
    assert caller.user_id is not None
    project_id = _uuid_arg(request, "id")
    logs.bind(projectId=str(project_id))
    with services.database.transaction() as conn:
        found = projects.get_owned(conn, project_id, caller.user_id)
    return ProjectView(
        id=found.id,
        name=found.name,
        content=found.content,
        version=found.version,
        updated_at=found.updated_at.isoformat(),
    )


def save(request: flask.Request, services: Services) -> SaveAnswer:
    """POST /save: the client's canvas, merged with the server's generation state."""
    caller = services.tokens.user(request.headers.get("Authorization"))
    limit = services.settings.max_canvas_bytes + 4096
    return canvases.save(services, caller, parse_body(request, SaveRequest, limit))


def cancel(request: flask.Request, services: Services) -> CancelAnswer:
    """POST /cancel: stop a node's running generation."""
    caller = services.tokens.user(request.headers.get("Authorization"))
    body = parse_body(request, CancelRequest, services.settings.max_body_bytes)
    return cancellation.cancel(services, caller, body)


def reconcile(request: flask.Request, services: Services) -> ReconcileReport:
    """POST /reconcile: the scheduler's round of recovering stuck generations (scheduler or service role)."""
    authorization = request.headers.get("Authorization")
    if services.scheduler is not None and oidc.issued_by_google(authorization):
        services.scheduler.verify(authorization)
    else:
        services.tokens.service(authorization)
    return reconciliation.reconcile(services)


def _uuid_arg(request: flask.Request, name: str) -> UUID:
    value = request.args.get(name)
    try:
        return UUID(value or "")
    except ValueError:
        msg = f"query parameter {name!r} must be a project id (UUID)"
        raise InvalidRequest(
            msg, code="validation_failed", details=[{"field": name, "message": msg}]
        ) from None
