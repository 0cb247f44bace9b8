"""The Starlette application of the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from canvasgen_stack.falsim import admin, downloads, endpoints
from canvasgen_stack.falsim.config import FalSimConfig
from canvasgen_stack.falsim.simulator import Simulator

REQUEST = "/{app:path}/requests/{request_id}"


async def _http_error(request: Request, error: Exception) -> Response:
    """Answer routing errors (404, 405) with fal's JSON error shape."""
    status_code = error.status_code if isinstance(error, HTTPException) else 500
    detail = error.detail if isinstance(error, HTTPException) else "Internal server error"
    return JSONResponse({"detail": detail}, status_code=status_code)


def create_app(config: FalSimConfig | None = None) -> Starlette:
    """Build the simulator application for config (default: from the environment)."""
    simulator = Simulator(config or FalSimConfig())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        """Stop background work and close the HTTP client on shutdown."""
        yield
        await simulator.close()

    routes = [
        Route("/.well-known/jwks.json", endpoints.jwks, methods=["GET"]),
        Mount("/_sim", routes=admin.routes),
        Route("/media/{file}", downloads.media, methods=["GET", "HEAD"]),
        Route(f"{REQUEST}/status", endpoints.status, methods=["GET"]),
        Route(f"{REQUEST}/cancel", endpoints.cancel, methods=["PUT"]),
        Route(REQUEST, endpoints.result, methods=["GET"]),
        Route("/{model:path}", endpoints.submit, methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.state.simulator = simulator
    return app
