"""The local Supabase Realtime server: sockets on one side, the database's committed changes on the other."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from psycopg_pool import AsyncConnectionPool
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from canvasgen_stack.config import StackSettings
from canvasgen_stack.realtime.catalog import Catalog
from canvasgen_stack.realtime.changes import Change
from canvasgen_stack.realtime.channels import Registry
from canvasgen_stack.realtime.connection import Connection, Services
from canvasgen_stack.realtime.dispatch import Dispatcher
from canvasgen_stack.realtime.frames import Serializer, serializer_for
from canvasgen_stack.realtime.replication import Replication
from canvasgen_stack.realtime.tokens import Claims, TokenError, verify

log = logging.getLogger(__name__)


class Denial(Exception):
    """A socket refused at the handshake, with Supabase's HTTP status and JSON body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class RealtimeServer:
    """Serves `/realtime/v1/websocket` for the official Supabase clients."""

    def __init__(self, settings: StackSettings) -> None:
        self._settings = settings
        self.registry = Registry()
        self._pool = AsyncConnectionPool(
            settings.database_url,
            min_size=1,
            max_size=4,
            open=False,
            kwargs={"autocommit": True},
            check=AsyncConnectionPool.check_connection,
        )
        self._catalog = Catalog(self._pool)
        self._dispatcher = Dispatcher(settings.database_url, self.registry, self._catalog)
        self._replication = Replication(settings.database_url)
        self._services = Services(settings.jwt_secret, self.registry, self._catalog)
        self._pump: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect and create the replication slot; return once committed changes will reach subscribers."""
        await self._pool.open(wait=True)
        await self._dispatcher.open()
        await self._replication.start()
        self._pump = asyncio.create_task(self._deliver_changes())

    async def stop(self) -> None:
        """Stop decoding, drop the slot and close the connections."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        await self._replication.stop()
        await self._dispatcher.close()
        await self._pool.close()

    async def handle(self, websocket: WebSocket) -> None:
        """Check the API key, then serve one socket until it closes."""
        try:
            serializer, claims = self._opening(websocket)
        except Denial as denial:
            await _deny(websocket, denial)
            return
        await websocket.accept()
        await Connection(websocket, serializer, claims, self._services).run()

    def _opening(self, websocket: WebSocket) -> tuple[Serializer, Claims]:
        # Supabase reads the `x-api-key` header before the `apikey` query parameter.
        key = websocket.headers.get("x-api-key") or websocket.query_params.get("apikey")
        if not key:
            raise Denial(401, "API key is missing")
        serializer = serializer_for(websocket.query_params.get("vsn"))
        if serializer is None:
            raise Denial(400, "Unsupported serializer version")
        try:
            return serializer, verify(key, self._settings.jwt_secret)
        except TokenError as exc:
            raise Denial(401, exc.message) from exc

    async def _deliver_changes(self) -> None:
        while True:
            try:
                async for change in self._replication.changes():
                    await self._deliver(change)
                return
            except Exception:
                log.exception("the change stream failed; resuming")
                await asyncio.sleep(1.0)

    async def _deliver(self, change: Change) -> None:
        try:
            await self._dispatcher.deliver(change)
        except Exception:
            log.exception("could not deliver a change to %s.%s", change.schema, change.table)


async def _deny(websocket: WebSocket, denial: Denial) -> None:
    """Answer the handshake with an HTTP error; servers without that extension get a close (HTTP 403)."""
    try:
        await websocket.send_denial_response(
            JSONResponse({"error": denial.message}, status_code=denial.status)
        )
    except RuntimeError:
        await websocket.close(code=1008, reason=denial.message)
