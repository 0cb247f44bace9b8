"""Bare Realtime subscribers for the fan-out benchmark: one socket each, counting changes, parsing nothing.

The official client parses every message into pydantic models, which would make the subscribers,
not the server, the thing measured; these speak the Phoenix V2 protocol and only count frames.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

CHANGE_MARK = '"postgres_changes"'
# Phoenix closes a socket that has sent nothing for a minute.
HEARTBEAT_SECONDS = 20.0


class Subscriber:
    """One socket subscribed to UPDATEs of one project, with its own token (its own RLS check)."""

    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection
        self.received = 0
        self.done = asyncio.Event()
        self.finished_at = 0.0
        self._wanted = 0
        self.on_change: Callable[[], None] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    async def open(cls, url: str, token: str, project_id: str, topic: str) -> Subscriber:
        """Connect, join a channel on the project's row and wait until changes flow."""
        connection = await websockets.connect(
            f"{url}?apikey={token}&vsn=2.0.0", max_size=2**24, compression=None
        )
        binding = {
            "event": "UPDATE",
            "schema": "public",
            "table": "projects",
            "filter": f"id=eq.{project_id}",
        }
        payload = {"config": {"postgres_changes": [binding], "private": False}, "access_token": token}
        await connection.send(json.dumps(["1", "1", topic, "phx_join", payload]))
        while True:
            frame: Any = json.loads(await asyncio.wait_for(connection.recv(), 30))
            if frame[3] == "phx_reply" and frame[4]["status"] != "ok":
                msg = f"join refused: {frame[4]}"
                raise RuntimeError(msg)
            if frame[3] == "system":
                break
        subscriber = cls(connection)
        subscriber._tasks = [asyncio.create_task(subscriber._read()), asyncio.create_task(subscriber._beat())]
        return subscriber

    def expect(self, count: int) -> None:
        """Count from zero until `count` changes have arrived."""
        self.received, self._wanted, self.finished_at = 0, count, 0.0
        self.done.clear()

    async def _read(self) -> None:
        async for text in self._connection:
            if CHANGE_MARK in text[:200]:
                if self.on_change is not None:
                    self.on_change()
                self.received += 1
                if self.received == self._wanted:
                    self.finished_at = time.perf_counter()
                    self.done.set()

    async def _beat(self) -> None:
        ref = 1
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            ref += 1
            await self._connection.send(json.dumps([None, str(ref), "phoenix", "heartbeat", {}]))

    async def close(self) -> None:
        """Close the socket."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._connection.close()
