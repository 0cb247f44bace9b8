"""The frames waiting for one socket, sent in the order they were made by a single writer.

A join reply thus precedes its `system` message and changes follow in commit order. A client too
slow to keep up is cut off instead of holding up the others or growing the queue without end.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.websockets import WebSocket

log = logging.getLogger(__name__)

MAX_QUEUED_FRAMES = 10_000


class Outbox:
    """One socket's queue of outgoing text frames."""

    def __init__(self, websocket: WebSocket, limit: int = MAX_QUEUED_FRAMES) -> None:
        self._ws = websocket
        self._limit = limit
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.overflowed = False

    def put(self, frame: str) -> None:
        """Queue a frame; past the limit, give up on the socket."""
        if self.overflowed:
            return
        if self._queue.qsize() >= self._limit:
            log.warning("a socket fell %s messages behind; closing it", self._limit)
            self.overflowed = True
            self._queue.put_nowait(None)
            return
        self._queue.put_nowait(frame)

    def close(self) -> None:
        """Let the writer finish what is queued and stop."""
        self._queue.put_nowait(None)

    async def drain(self) -> None:
        """Send queued frames until closed or the client goes away."""
        while (frame := await self._queue.get()) is not None:
            try:
                await self._ws.send_text(frame)
            except Exception:  # the client went away; the reader notices too
                return
