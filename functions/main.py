"""Entry points of the canvasgen functions, as Cloud Functions (functions-framework) calls them.

Each entry point only hands the request to its handler; the logic lives in the `canvasgen` package.
"""

from __future__ import annotations

import flask
import functions_framework

from canvasgen import handlers
from canvasgen.http import serve


@functions_framework.http
def submit(request: flask.Request) -> flask.Response:
    """Start a generation for a canvas node."""
    return serve(request, handlers.submit, ("POST",), status=202)


@functions_framework.http
def fal_webhook(request: flask.Request) -> flask.Response:
    """Receive fal's signed webhook and finish the job."""
    return serve(request, handlers.fal_webhook, ("POST",))


@functions_framework.http
def project(request: flask.Request) -> flask.Response:
    """Return one of the caller's projects."""
    return serve(request, handlers.project, ("GET",))


@functions_framework.http
def save(request: flask.Request) -> flask.Response:
    """Save a canvas without undoing the server's generation state."""
    return serve(request, handlers.save, ("POST",))


@functions_framework.http
def cancel(request: flask.Request) -> flask.Response:
    """Cancel a node's running generation."""
    return serve(request, handlers.cancel, ("POST",))


@functions_framework.http
def reconcile(request: flask.Request) -> flask.Response:
    """Recover generations whose webhook never came (called by the scheduler)."""
    return serve(request, handlers.reconcile, ("POST",))
