"""Benchmark 1, concurrent part: 50 writers change 50 different nodes of one project at the same moment.

Each writer has its own connection and waits at a barrier, so all start together. Afterwards the
canvas is read once: a writer whose mark is missing lost its update to another writer. The WAL
written is read from `pg_current_wal_insert_lsn()` before and after.
"""

from __future__ import annotations

import threading

import psycopg

from canvasgen_bench import canvases
from canvasgen_bench.context import Context
from canvasgen_bench.rows import Row
from canvasgen_bench.stats import Figure
from canvasgen_bench.writes import WRITES, Conn, Write, marks_kept

BENCHMARK = "1. node patch"
WRITERS = 50


def run(context: Context, conn: Conn) -> list[Row]:
    """Run the concurrent writers `rounds` times per approach; return lost updates and WAL per update."""
    rounds, nodes = context.pick(5, 2), context.pick(1000, 200)
    lost: dict[str, list[float]] = {name: [] for name in WRITES}
    wal: dict[str, list[float]] = {name: [] for name in WRITES}
    pool = [psycopg.connect(context.settings.database_url, autocommit=True) for _ in range(WRITERS)]
    try:
        for round_index in range(rounds):
            for name, write in WRITES.items():
                context.progress.step(
                    f"{WRITERS} concurrent writers, {name}, round {round_index + 1}/{rounds}"
                )
                project = canvases.create(conn, nodes, f"concurrent {name}")
                before = _wal_position(conn)
                expected = _race(pool, write, project, f"r{round_index}")
                wal[name].append((_wal_position(conn) - before) / WRITERS / 1024)
                lost[name].append(len(expected) - _kept(conn, project, expected))
    finally:
        for writer in pool:
            writer.close()
    case = f"{WRITERS} writers, {nodes:,} nodes"
    rows = [
        Row(BENCHMARK, case, f"lost updates, {name}", Figure.of(lost[name], "updates")) for name in WRITES
    ]
    rows += [
        Row(
            BENCHMARK,
            case,
            f"WAL per update, {name}, KiB",
            Figure.of(wal[name], "KiB"),
            "floor",
            Figure.of(wal["floor"], "KiB"),
        )
        for name in ("node patch", "read-modify-write")
    ]
    return rows


def _race(pool: list[Conn], write: Write, project: canvases.Project, tag: str) -> dict[str, str]:
    """Let every writer change its own node at once; return the mark each node should now carry."""
    targets = project.node_ids[:: max(1, len(project.node_ids) // WRITERS)][:WRITERS]
    expected = {node_id: f"{tag}-{node_id}" for node_id in targets}
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def writer(conn: Conn, node_id: str) -> None:
        try:
            barrier.wait()
            write(conn, project.id, node_id, expected[node_id])
        except BaseException as exc:  # reported after the join, in the main thread
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(conn, node_id))
        for conn, node_id in zip(pool, targets, strict=False)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return expected


def _kept(conn: Conn, project: canvases.Project, expected: dict[str, str]) -> int:
    row = conn.execute("select content from public.projects where id = %s", (project.id,)).fetchone()
    assert row is not None
    return marks_kept(row[0], expected)


def _wal_position(conn: Conn) -> int:
    row = conn.execute("select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint").fetchone()
    assert row is not None
    return int(row[0])
