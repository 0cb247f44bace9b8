"""The local API gateway on one port, routing by path as Supabase's gateway does.

/functions/v1/openapi.json → the OpenAPI description of the functions
/functions/v1/<name>      → the functions host (streamed both ways)
/realtime/v1/websocket    → the Realtime server, in this process
/health                   → liveness
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute

from canvasgen import openapi
from canvasgen_stack.config import StackSettings
from canvasgen_stack.realtime import RealtimeServer

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "proxy-authorization",
    "proxy-authenticate",
    "content-length",
}


def create_app(settings: StackSettings) -> Starlette:
    """Build the gateway for a local stack."""
    realtime = RealtimeServer(settings)
    upstream = httpx.AsyncClient(
        base_url=settings.functions_host_url, timeout=httpx.Timeout(900.0, connect=10.0)
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await realtime.start()
        try:
            yield
        finally:
            await realtime.stop()
            await upstream.aclose()

    async def functions(request: Request) -> Response:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        outgoing = upstream.build_request(
            request.method,
            request.url.path,
            params=request.query_params,
            headers=headers,
            content=request.stream(),
        )
        try:
            answer = await upstream.send(outgoing, stream=True)
        except httpx.TransportError:
            body = {
                "error": {"code": "functions_unavailable", "message": "the functions host is not answering"}
            }
            return JSONResponse(body, status_code=502)
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        return StreamingResponse(
            answer.aiter_raw(),
            status_code=answer.status_code,
            headers=kept,
            background=BackgroundTask(answer.aclose),
        )

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]

    async def openapi_document(request: Request) -> Response:
        return JSONResponse(openapi.document())

    routes = [
        Route("/functions/v1/openapi.json", openapi_document),
        Route("/functions/v1/{rest:path}", functions, methods=methods),
        WebSocketRoute("/realtime/v1/websocket", realtime.handle),
        Route("/health", health),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    """Run the gateway."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    settings = StackSettings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.api_port,
        log_level="warning",
        ws_max_size=16 * 1024 * 1024,
        # As Supabase's Realtime (Phoenix) does not compress frames: deflating every change once per
        # socket cost more CPU than anything else in the fan-out (docs/profiles/).
        ws_per_message_deflate=False,
    )


if __name__ == "__main__":
    main()
