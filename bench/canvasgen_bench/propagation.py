"""Benchmark 2: from the webhook's response to the last of N Python clients holding the completed node.

Ours: a job's genuine delivery posted to `fal-webhook` through the gateway, received by the
product's `ProjectWatcher`s (the official Realtime client), and, on a twin project, by bare Realtime
sockets that parse nothing (what the server alone takes). Floor: the same node UPDATE plus
`pg_notify` in one transaction on a third twin, from sending its COMMIT to the last of N `LISTEN`
connections. The three alternate delivery by delivery; each kind of client runs in a child process
of its own, all N in one process. Canvases have 100 nodes (a 66 KB record per change).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from canvasgen import nodes
from canvasgen_bench import canvases, stack
from canvasgen_bench.context import Context
from canvasgen_bench.generations import Generation, Generations
from canvasgen_bench.processes import SubscriberProcess
from canvasgen_bench.rows import Row
from canvasgen_bench.stack import ALICE_EMAIL, ALICE_ID
from canvasgen_bench.stats import Figure, percentile
from canvasgen_stack.config import StackSettings

BENCHMARK = "2. propagation"
SUBSCRIBERS = (1, 10, 200)
# A quick run stops at 50 subscribers: starting 200 official clients alone takes most of its budget.
QUICK_SUBSCRIBERS = (1, 10, 50)
NODES = 100
CLIENTS = {"realtime": "ProjectWatcher (official client)", "sockets": "bare Realtime socket"}
GATEWAY = "The gateway (local Realtime server) while {count} subscribers of each kind received completions."
WATCHERS = (
    "The process of the {count} ProjectWatchers (official `realtime` client) during the same deliveries."
)


@dataclass
class Kind:
    """One kind of subscriber: its project, its process and its latencies (ms, one list per round)."""

    mode: str
    project: canvases.Project
    process: SubscriberProcess | None = None
    pending: list[Generation] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    rounds: list[list[float]] = field(default_factory=list)


def run(context: Context) -> list[Row]:
    """Run benchmark 2 and return its rows."""
    rounds = context.pick(3, 2)
    rows: list[Row] = []
    generations = Generations(context.settings)
    try:
        for count in QUICK_SUBSCRIBERS if context.quick else SUBSCRIBERS:
            per_round = context.pick(15 if count < 100 else 8, 3)
            kinds = _measure(context, generations, count, rounds, per_round)
            rows += _rows(count, kinds)
    finally:
        generations.close()
    return rows


def _measure(
    context: Context, generations: Generations, count: int, rounds: int, per_round: int
) -> dict[str, Kind]:
    settings = context.settings
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        kinds = {
            mode: Kind(mode, canvases.create(conn, NODES, f"propagation {mode} {count}"))
            for mode in ("realtime", "sockets", "listen")
        }
    targets = kinds["listen"].project.node_ids[: rounds * per_round]
    context.progress.step(f"{count} subscribers: {2 * len(targets)} generations rendering")
    for mode in CLIENTS:
        kind = kinds[mode]
        kind.pending = [
            generations.submit(kind.project.id, node, "propagation [sim:drop]") for node in targets
        ]
        kind.outputs = {g.node_id: generations.output(g) for g in kind.pending}
    context.progress.step(f"{count} subscribers: connecting")
    try:
        for kind in kinds.values():
            kind.process = SubscriberProcess(_config(settings, kind, count))
        gateway = stack.pid(settings, "gateway")
        watchers = kinds["realtime"].process
        assert watchers is not None
        with (
            psycopg.connect(settings.database_url, prepare_threshold=None) as writer,
            context.profiling(gateway, f"propagation-{count}-gateway", GATEWAY.format(count=count)),
            context.profiling(watchers.pid, f"propagation-{count}-watchers", WATCHERS.format(count=count)),
        ):
            for round_index in range(rounds):
                context.progress.step(f"{count} subscribers, round {round_index + 1}/{rounds}")
                for kind in kinds.values():
                    kind.rounds.append([])
                for index in range(round_index * per_round, (round_index + 1) * per_round):
                    for mode in CLIENTS:
                        kind = kinds[mode]
                        kind.rounds[-1].append(_deliver(generations, kind, kind.pending[index]))
                    kinds["listen"].rounds[-1].append(_notify(writer, kinds["listen"], targets[index]))
    finally:
        for kind in kinds.values():
            if kind.process is not None:
                kind.process.close()
    return kinds


def _config(settings: StackSettings, kind: Kind, count: int) -> dict[str, Any]:
    return {
        "mode": kind.mode,
        "count": count,
        "project": kind.project.id,
        "token": settings.user_token(ALICE_ID, ALICE_EMAIL, 24 * 3600),
        "anonKey": settings.anon_key,
        "realtimeUrl": settings.realtime_url
        if kind.mode == "sockets"
        else settings.realtime_url.removesuffix("/websocket"),
        "functionsUrl": settings.functions_url,
        "databaseUrl": settings.database_url,
        "channel": f"bench_propagation_{kind.project.id[:8]}",
    }


def _deliver(generations: Generations, kind: Kind, generation: Generation) -> float:
    """Post the webhook; return ms from its response to the last client holding the completed node."""
    assert kind.process is not None
    kind.process.arm(generation.node_id)
    generations.deliver(generation, kind.outputs[generation.node_id])
    answered = time.monotonic()
    try:
        return (kind.process.last_arrival(generation.node_id) - answered) * 1000
    except TimeoutError:
        return math.nan


def _notify(writer: psycopg.Connection[Any], kind: Kind, node_id: str) -> float:
    """Write the same node UPDATE with a NOTIFY; return ms from sending its COMMIT to the last listener."""
    assert kind.process is not None
    kind.process.arm(node_id)
    keys, remove = nodes.completed_state(f"https://media.example.com/{node_id}.png", "image/png")
    channel = f"bench_propagation_{kind.project.id[:8]}"
    writer.execute(
        "select public.patch_node_data(%s, %s, %s, %s), pg_notify(%s, %s)",
        (kind.project.id, node_id, Jsonb(keys), list(remove), channel, node_id),
    )
    committing = time.monotonic()
    writer.commit()
    try:
        return (kind.process.last_arrival(node_id) - committing) * 1000
    except TimeoutError:
        return math.nan


def _rows(count: int, kinds: dict[str, Kind]) -> list[Row]:
    case = f"{count} subscriber{'s' if count > 1 else ''}"
    floor = kinds["listen"].rounds
    rows = []
    for mode, client in CLIENTS.items():
        for label, fraction in (("p50", 0.5), ("p95", 0.95)):
            rows.append(
                Row(
                    BENCHMARK,
                    case,
                    f"{label} ms, webhook answered → last {client}",
                    Figure.of([percentile(values, fraction) for values in kinds[mode].rounds], "ms"),
                    "LISTEN/NOTIFY floor",
                    Figure.of([percentile(values, fraction) for values in floor], "ms"),
                )
            )
    return rows
