"""Benchmark 1: one node's state change as our node patch, as read-modify-write, and as the floor.

Each round writes the same sequence of nodes with the three approaches interleaved, under each
`content` compression (pglz, lz4), on canvases of 10 to 5,000 nodes. Realtime is stopped meanwhile:
in production it decodes the WAL on another machine, here it would take the CPU the database needs.
Then 50 writers update 50 different nodes of one project at once, each on its own connection: a
writer whose change is missing afterwards lost its update; the WAL written per update is read from
the server's insert position.
"""

from __future__ import annotations

import random
import time
from typing import Any

import psycopg

from canvasgen_bench import canvases, lostupdates, stack
from canvasgen_bench.context import Context
from canvasgen_bench.rows import Row
from canvasgen_bench.stats import Figure, median
from canvasgen_bench.writes import WRITES, Conn

BENCHMARK = "1. node patch"
COMPRESSIONS = ("pglz", "lz4")
WARMUP = 3
# Updates per approach and round, by canvas size: (full, quick); a quick run skips 5,000 nodes.
UPDATES = {10: (100, 15), 100: (100, 15), 1000: (40, 6), 5000: (15, 0)}

Times = dict[tuple[int, str, str], list[float]]


def run(context: Context) -> list[Row]:
    """Run benchmark 1 and return its rows."""
    rounds = context.pick(5, 2)
    settings = context.settings
    stack.stop(settings, "gateway")
    try:
        with connect(settings.database_url) as conn:
            configured = compression(conn)
            try:
                times, stored = _single_writes(context, conn, rounds)
            finally:
                _set_compression(conn, configured)
            rows = _single_rows(times, stored, configured, sizes(context))
            rows += lostupdates.run(context, conn)
            canvases.delete_all(conn)
    finally:
        stack.start(settings, "gateway")
    return rows


def connect(url: str) -> Conn:
    """Connect as the functions do: autocommit, no server-side prepared statements."""
    return psycopg.connect(url, autocommit=True, prepare_threshold=None)


def compression(conn: Conn) -> str:
    """Return the compression `content` is written with (the column's own, else the server default)."""
    row = conn.execute(
        "select attcompression::text from pg_attribute"
        " where attrelid = 'public.projects'::regclass and attname = 'content'"
    ).fetchone()
    code = row[0] if row else ""
    if code in ("p", "l"):
        return {"p": "pglz", "l": "lz4"}[code]
    default = conn.execute("show default_toast_compression").fetchone()
    return str(default[0]) if default else "pglz"


def _set_compression(conn: Conn, method: str) -> None:
    conn.execute(f"alter table public.projects alter column content set compression {method}")


def _single_writes(context: Context, conn: Conn, rounds: int) -> tuple[Times, dict[tuple[int, str], int]]:
    times: Times = {}
    stored: dict[tuple[int, str], int] = {}
    for round_index in range(rounds):
        for method in COMPRESSIONS:
            _set_compression(conn, method)
            for size in sizes(context):
                context.progress.step(f"round {round_index + 1}/{rounds}, {method}, {size} nodes")
                count = context.pick(*UPDATES[size])
                project = canvases.create(conn, size, f"patch {size}")
                medians = _measure(conn, project, count, seed=round_index * 7919 + size)
                for name, value in medians.items():
                    times.setdefault((size, method, name), []).append(value)
                stored[(size, method)] = _stored_bytes(conn, project.id)
    return times, stored


def _measure(conn: Conn, project: canvases.Project, count: int, seed: int) -> dict[str, float]:
    """Write `count` random nodes with every approach, interleaved; return each one's median in ms."""
    chooser = random.Random(seed)
    targets = [chooser.choice(project.node_ids) for _ in range(WARMUP + count)]
    samples: dict[str, list[float]] = {name: [] for name in WRITES}
    order = list(WRITES.items())
    for index, node_id in enumerate(targets):
        order = order[1:] + order[:1]
        for name, write in order:
            started = time.perf_counter()
            write(conn, project.id, node_id, f"{name}-{index}")
            if index >= WARMUP:
                samples[name].append((time.perf_counter() - started) * 1000)
    return {name: median(values) for name, values in samples.items()}


def _stored_bytes(conn: Conn, project_id: str) -> int:
    row: Any = conn.execute(
        "select pg_column_size(content) from public.projects where id = %s", (project_id,)
    ).fetchone()
    return int(row[0])


def sizes(context: Context) -> list[int]:
    """Return the canvas sizes of this run."""
    return [size for size, (_, quick) in UPDATES.items() if not context.quick or quick]


def _single_rows(
    times: Times, stored: dict[tuple[int, str], int], configured: str, sizes: list[int]
) -> list[Row]:
    rows: list[Row] = []
    for size in sizes:

        def figure(name: str, method: str = configured, size: int = size) -> Figure:
            return Figure.of(times[(size, method, name)], "ms")

        case = f"{size:,} nodes"
        note = f"stored {stored[(size, configured)] / 1024:,.0f} KiB ({configured})"
        rows += [
            Row(
                BENCHMARK, case, "node patch, ms/update", figure("node patch"), "floor", figure("floor"), note
            ),
            Row(
                BENCHMARK,
                case,
                "read-modify-write, ms/update",
                figure("read-modify-write"),
                "node patch",
                figure("node patch"),
            ),
        ]
        other = "lz4" if configured == "pglz" else "pglz"
        rows.append(
            Row(
                BENCHMARK,
                case,
                f"node patch with {other}, ms/update",
                figure("node patch", other),
                f"node patch with {configured}",
                figure("node patch"),
                f"stored {stored[(size, other)] / 1024:,.0f} KiB ({other})",
            )
        )
    return rows
