"""One socket served over an in-memory transport, for failures the real database does not give on demand."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
import pytest

from canvasgen_stack.config import StackSettings
from canvasgen_stack.realtime import connection
from canvasgen_stack.realtime.channels import Registry
from canvasgen_stack.realtime.connection import Connection, Services
from canvasgen_stack.realtime.frames import JsonArraySerializer
from canvasgen_stack.realtime.tokens import verify

pytestmark = pytest.mark.anyio


class MemorySocket:
    """The part of Starlette's WebSocket a connection uses, backed by queues."""

    def __init__(self) -> None:
        self.inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.outbound: asyncio.Queue[Any] = asyncio.Queue()

    def send_client(self, frame: list[Any]) -> None:
        self.inbound.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})

    async def receive(self) -> dict[str, Any]:
        return await self.inbound.get()

    async def send_text(self, text: str) -> None:
        self.outbound.put_nowait(json.loads(text))

    async def close(self, code: int = 1000) -> None:
        pass


class UnreachableCatalog:
    """A catalog whose database has gone away."""

    async def resolve(self, entries: list[dict[str, Any]], role: str) -> list[Any]:
        raise psycopg.OperationalError("the database went away")


async def test_a_channel_that_fails_gets_phx_error_with_its_join_ref() -> None:
    """A failure while subscribing ends only that channel, with phx_error carrying the join ref."""
    settings = StackSettings()
    services = Services(settings.jwt_secret, Registry(), UnreachableCatalog())  # type: ignore[arg-type]
    socket = MemorySocket()
    claims = verify(settings.anon_key, settings.jwt_secret)
    served = asyncio.create_task(Connection(socket, JsonArraySerializer(), claims, services).run())  # type: ignore[arg-type]
    join = {"config": {"postgres_changes": [{"event": "*", "schema": "public", "table": "projects"}]}}
    socket.send_client(["3", "3", "realtime:broken", "phx_join", join])
    reply, error = await socket.outbound.get(), await socket.outbound.get()
    socket.send_client([None, "4", "phoenix", "heartbeat", {}])
    heartbeat = await socket.outbound.get()
    socket.inbound.put_nowait({"type": "websocket.disconnect"})
    await asyncio.wait_for(served, 5)
    assert reply[3] == "phx_reply" and reply[4]["status"] == "ok"
    assert error == ["3", "3", "realtime:broken", "phx_error", {}]
    assert heartbeat == [None, "4", "phoenix", "phx_reply", {"status": "ok", "response": {}}]


async def test_a_silent_socket_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that sends nothing (not even heartbeats) for the idle timeout is disconnected."""
    monkeypatch.setattr(connection, "IDLE_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(connection, "TICK_SECONDS", 0.05)
    settings = StackSettings()
    services = Services(settings.jwt_secret, Registry(), UnreachableCatalog())  # type: ignore[arg-type]
    claims = verify(settings.anon_key, settings.jwt_secret)
    served = Connection(MemorySocket(), JsonArraySerializer(), claims, services).run()  # type: ignore[arg-type]
    await asyncio.wait_for(served, 2)
