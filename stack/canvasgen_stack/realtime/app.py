"""The realtime server as a Starlette app of its own, for running it without the API gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

from canvasgen_stack.config import StackSettings
from canvasgen_stack.realtime.server import RealtimeServer

PATH = "/realtime/v1/websocket"


def create_app(settings: StackSettings) -> Starlette:
    """Return an app serving the realtime socket at `/realtime/v1/websocket`."""
    server = RealtimeServer(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await server.start()
        try:
            yield
        finally:
            await server.stop()

    app = Starlette(routes=[WebSocketRoute(PATH, server.handle)], lifespan=lifespan)
    app.state.realtime = server
    return app
