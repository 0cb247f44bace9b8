"""A process of N subscribers that says when the last of them holds a node's new state.

`python -m canvasgen_bench.subscribers '<json>'` starts N clients of one kind: `realtime` runs the
product's `ProjectWatcher` (the official Realtime client, one socket each), `sockets` runs bare
Realtime sockets that take any change of the project as the awaited one without parsing it, `listen`
runs psycopg connections in `LISTEN`. It prints `ready` once all are live, then answers `expect <node>` with
`armed <node>`, and prints `done <node> <seconds>` when the last client has the node, where seconds is
`time.monotonic()` (one clock for every process of the machine). `quit` ends it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from psycopg import AsyncConnection, sql

from canvasgen_bench.sockets import Subscriber
from canvasgen_client.api import CanvasApi
from canvasgen_client.nodestate import NodeCompleted, NodeEvent
from canvasgen_client.watch import ProjectWatcher

CONNECT_BATCH = 20


class Arrivals:
    """Which clients hold the expected node, and when the last one got it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.node: str | None = None
        self.seen: set[int] = set()

    def expect(self, node: str) -> None:
        self.node, self.seen = node, set()

    def arrived(self, client: int, node: str) -> None:
        """Record that `client` holds `node`; announce the moment the last client does."""
        now = time.monotonic()
        if node != self.node or client in self.seen:
            return
        self.seen.add(client)
        if len(self.seen) == self.count:
            _say(f"done {node} {now:.6f}")
            self.node = None


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _commands(arrivals: Arrivals) -> None:
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line.strip())
        loop.call_soon_threadsafe(lines.put_nowait, "quit")

    threading.Thread(target=read, daemon=True).start()
    while (line := await lines.get()) != "quit":
        command, _, node = line.partition(" ")
        if command == "expect":
            arrivals.expect(node)
            _say(f"armed {node}")


async def _realtime(config: dict[str, Any], arrivals: Arrivals) -> Callable[[], Any]:
    http = httpx.AsyncClient(timeout=60.0, limits=httpx.Limits(max_connections=20))
    api = CanvasApi(config["functionsUrl"], config["token"], http)

    def on_event(client: int) -> Callable[[NodeEvent], None]:
        def handle(event: NodeEvent) -> None:
            if isinstance(event, NodeCompleted):
                arrivals.arrived(client, event.node_id)

        return handle

    watchers = [
        ProjectWatcher(
            realtime_url=config["realtimeUrl"],
            apikey=config["anonKey"],
            token=config["token"],
            api=api,
            project_id=config["project"],
            on_event=on_event(index),
        )
        for index in range(arrivals.count)
    ]
    for start in range(0, len(watchers), CONNECT_BATCH):
        await asyncio.gather(*(w.start() for w in watchers[start : start + CONNECT_BATCH]))
    await asyncio.wait_for(asyncio.gather(*(w.subscribed.wait() for w in watchers)), 120)
    while any(w.refetches == 0 for w in watchers):
        await asyncio.sleep(0.05)

    async def stop() -> None:
        await asyncio.gather(*(w.stop() for w in watchers), return_exceptions=True)
        await http.aclose()

    return stop


async def _sockets(config: dict[str, Any], arrivals: Arrivals) -> Callable[[], Any]:
    subscribers: list[Subscriber] = []
    for start in range(0, arrivals.count, CONNECT_BATCH):
        subscribers += await asyncio.gather(
            *(
                Subscriber.open(
                    config["realtimeUrl"], config["token"], config["project"], f"realtime:bare-{i}"
                )
                for i in range(start, min(arrivals.count, start + CONNECT_BATCH))
            )
        )
    for index, subscriber in enumerate(subscribers):
        subscriber.on_change = functools.partial(_any_change, arrivals, index)

    async def stop() -> None:
        await asyncio.gather(*(s.close() for s in subscribers), return_exceptions=True)

    return stop


def _any_change(arrivals: Arrivals, client: int) -> None:
    if arrivals.node is not None:
        arrivals.arrived(client, arrivals.node)


async def _listen(config: dict[str, Any], arrivals: Arrivals) -> Callable[[], Any]:
    connections = [
        await AsyncConnection.connect(config["databaseUrl"], autocommit=True) for _ in range(arrivals.count)
    ]
    for conn in connections:
        await conn.execute(sql.SQL("listen {}").format(sql.Identifier(config["channel"])))

    async def receive(client: int, conn: AsyncConnection[Any]) -> None:
        async for notice in conn.notifies():
            arrivals.arrived(client, notice.payload)

    tasks = [asyncio.create_task(receive(i, conn)) for i, conn in enumerate(connections)]

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for conn in connections:
            await conn.close()

    return stop


async def _main(config: dict[str, Any]) -> None:
    arrivals = Arrivals(int(config["count"]))
    start = {"realtime": _realtime, "sockets": _sockets, "listen": _listen}[config["mode"]]
    stop = await start(config, arrivals)
    _say("ready")
    try:
        await _commands(arrivals)
    finally:
        await stop()


def main() -> None:
    """Run the subscribers described by the JSON argument."""
    asyncio.run(_main(json.loads(sys.argv[1])))


if __name__ == "__main__":
    main()
