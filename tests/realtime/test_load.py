"""One server process serving 200 subscribed sockets, each with its own token (one policy check each)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import psycopg
import pytest
from psycopg.rows import DictRow

from canvasgen_stack.config import StackSettings
from tests.realtime.support import Phoenix, phoenix
from tests.realtime.test_python_client import subscriber
from tests.support import ALICE_ID, create_canvas

pytestmark = pytest.mark.anyio

Db = psycopg.Connection[DictRow]
SOCKETS = 200
CHANGES = 20


async def test_two_hundred_subscribers_receive_every_change_in_order(realtime: StackSettings, db: Db) -> None:
    """200 raw sockets and one official client on one project all receive 20 updates, in commit order."""
    canvas = create_canvas(db, ALICE_ID)
    binding = [{"event": "UPDATE", "schema": "public", "table": "projects", "filter": f"id=eq.{canvas.id}"}]
    async with contextlib.AsyncExitStack() as stack:
        # Distinct lifetimes give every socket different claims, the costly case for policy checks.
        tokens = [realtime.user_token(ALICE_ID, "alice@example.com", 3600 + i) for i in range(SOCKETS)]
        sockets: list[Phoenix] = await asyncio.gather(
            *(stack.enter_async_context(phoenix(realtime, t)) for t in tokens)
        )
        await asyncio.gather(*(s.subscribed(f"realtime:load-{i}", binding) for i, s in enumerate(sockets)))
        official = await stack.enter_async_context(subscriber(realtime, tokens[0], "UPDATE", canvas.id))
        started = time.perf_counter()
        for _ in range(CHANGES):
            db.execute("update public.projects set name = 'load' where id = %s", (canvas.id,))
        seen = await asyncio.gather(*(versions(s) for s in sockets))
        elapsed = time.perf_counter() - started
        by_official = [
            (await asyncio.wait_for(official.get(), 5))["data"]["record"]["version"] for _ in range(CHANGES)
        ]
    expected = list(range(2, 2 + CHANGES))
    assert all(got == expected for got in seen) and by_official == expected
    print(
        f"\n{CHANGES} changes x {SOCKETS} sockets in {elapsed:.2f} s: {CHANGES / elapsed:.0f} changes/s, "
        f"{CHANGES * SOCKETS / elapsed:.0f} messages/s"
    )


async def versions(socket: Phoenix) -> list[int]:
    """Collect the record versions of the next CHANGES postgres_changes frames."""
    found: list[int] = []
    while len(found) < CHANGES:
        frame = await socket.expect(lambda f: f[3] == "postgres_changes", timeout=30)
        found.append(frame[4]["data"]["record"]["version"])
    return found
