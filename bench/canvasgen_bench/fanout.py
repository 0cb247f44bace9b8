"""Benchmark 5: changes per second the local Realtime server delivers as the subscribers grow.

Every subscriber has a token of its own (distinct claims), so the server checks row level security
once per subscriber and change, as Supabase's does. A writer commits a burst of node patches to one
small project as fast as it can; the figure is the burst's size over the time until the last
subscriber has the last change. Baseline, in the same round: how fast the writer alone committed the
burst (what could be delivered if fan-out cost nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from canvasgen import nodes
from canvasgen_bench import canvases, stack
from canvasgen_bench.context import Context
from canvasgen_bench.rows import Row
from canvasgen_bench.sockets import Subscriber
from canvasgen_bench.stack import ALICE_EMAIL, ALICE_ID
from canvasgen_bench.stats import Figure

BENCHMARK = "5. realtime fan-out"
CONNECT_BATCH = 25
WAIT_SECONDS = 120.0


def run(context: Context) -> list[Row]:
    """Run benchmark 5 and return its rows."""
    return asyncio.run(_run(context))


async def _run(context: Context) -> list[Row]:
    counts = (1, 10, 200) if context.quick else (1, 10, 50, 100, 200, 500)
    rounds, burst = context.pick(5, 2), context.pick(100, 10)
    rows = []
    for count in counts:
        delivered, written = await _measure(context, count, rounds, burst)
        rows.append(
            Row(
                BENCHMARK,
                f"{count} subscriber{'s' if count > 1 else ''}",
                "changes/s delivered to all (higher is better)",
                Figure.of(delivered, "changes/s"),
                "writer's commit rate",
                Figure.of(written, "changes/s"),
                f"{count * min(delivered):,.0f}–{count * max(delivered):,.0f} messages/s",
            )
        )
    return rows


async def _measure(context: Context, count: int, rounds: int, burst: int) -> tuple[list[float], list[float]]:
    settings = context.settings
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        project = canvases.create(conn, 10, f"fan-out {count}")
    context.progress.step(f"{count} subscribers: connecting")
    subscribers: list[Subscriber] = []
    delivered: list[float] = []
    written: list[float] = []
    try:
        for start in range(0, count, CONNECT_BATCH):
            # Distinct lifetimes give every subscriber distinct claims: one policy check each.
            tokens = [
                settings.user_token(ALICE_ID, ALICE_EMAIL, 24 * 3600 + index)
                for index in range(start, min(count, start + CONNECT_BATCH))
            ]
            subscribers += await asyncio.gather(
                *(
                    Subscriber.open(settings.realtime_url, token, project.id, f"realtime:fanout-{i}")
                    for i, token in enumerate(tokens, start)
                )
            )
        async with await AsyncConnection.connect(settings.database_url, autocommit=True) as writer:
            gateway = stack.pid(settings, "gateway")
            title = (
                f"The gateway (local Realtime server) delivering bursts of changes to {count} subscribers."
            )
            with context.profiling(gateway, f"fanout-{count}-gateway", title):
                for index in range(rounds):
                    context.progress.step(f"{count} subscribers, round {index + 1}/{rounds}")
                    rate, write_rate = await _burst(writer, subscribers, project, burst, index)
                    delivered.append(rate)
                    written.append(write_rate)
    finally:
        await asyncio.gather(*(s.close() for s in subscribers), return_exceptions=True)
    return delivered, written


async def _burst(
    writer: AsyncConnection[Any],
    subscribers: list[Subscriber],
    project: canvases.Project,
    burst: int,
    tag: int,
) -> tuple[float, float]:
    """Commit `burst` node patches; return the delivered and the written rate in changes per second."""
    for subscriber in subscribers:
        subscriber.expect(burst)
    began = time.perf_counter()
    for index in range(burst):
        keys = {**nodes.pending_state(), "benchMark": f"{tag}-{index}"}
        await writer.execute(
            "select public.patch_node_data(%s, %s, %s, '{}')",
            (project.id, project.node_ids[index % len(project.node_ids)], Jsonb(keys)),
        )
    wrote = time.perf_counter() - began
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(s.done.wait() for s in subscribers)), WAIT_SECONDS)
    if not all(s.done.is_set() for s in subscribers):
        return float("nan"), burst / wrote
    last = max(s.finished_at for s in subscribers)
    return burst / (last - began), burst / wrote
