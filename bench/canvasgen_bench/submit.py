"""Benchmark 4: `submit` under 16 concurrent callers, and the cold start of the functions entry point.

Both are compared with a hello-world function served the same way (`functions-framework`, which is
what Cloud Functions runs), in the same rounds. Every submit is a real one (auth, two transactions,
the provider call) for a node of its own; the fal simulator keeps the jobs queued
(`[sim:never_complete]`) so that no rendering competes for the CPU. Cold start: from starting the
process to the first answered request (our answer is 401, before any database work).
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from canvasgen_bench import canvases, load, served
from canvasgen_bench.context import Context
from canvasgen_bench.rows import Row
from canvasgen_bench.stack import ALICE_EMAIL, ALICE_ID
from canvasgen_bench.stats import Figure, median, p95

BENCHMARK = "4. submit"
CALLERS = 16
NODES_PER_PROJECT = 10


def run(context: Context) -> list[Row]:
    """Run benchmark 4 and return its rows."""
    rounds = context.pick(5, 2)
    submits, hellos = context.pick(300, 80), context.pick(1500, 400)
    settings = context.settings
    token = settings.user_token(ALICE_ID, ALICE_EMAIL, 24 * 3600)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    bodies = _submit_bodies(settings.database_url, CALLERS + rounds * submits)
    ours: list[load.Outcome] = []
    baseline: list[load.Outcome] = []
    with tempfile.TemporaryDirectory(prefix="canvasgen-bench-") as folder:
        hello = served.hello(Path(folder))
        submit = served.ours(settings, "submit")
        with served.serving(submit) as (submit_port, worker), served.serving(hello) as (hello_port, _):
            load.call(submit_port, bodies[:CALLERS], headers, CALLERS)
            load.call(hello_port, [b"{}"] * CALLERS, headers, CALLERS)
            title = f"The gunicorn worker of `submit` under {CALLERS} concurrent callers."
            with context.profiling(worker, "submit-worker", title):
                for index in range(rounds):
                    context.progress.step(f"{CALLERS} callers, round {index + 1}/{rounds}")
                    share = bodies[CALLERS + index * submits : CALLERS + (index + 1) * submits]
                    ours.append(load.call(submit_port, share, headers, CALLERS))
                    baseline.append(load.call(hello_port, [b"{}"] * hellos, headers, CALLERS))
        starts = _cold_starts(context, submit, hello, context.pick(5, 2))
    httpx.post(f"{settings.fal_url}/_sim/reset", timeout=30.0).raise_for_status()
    return _rows(ours, baseline, starts)


def _submit_bodies(database_url: str, count: int) -> list[bytes]:
    """Make enough small projects that every submit has a node of its own."""
    bodies = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for _ in range(-(-count // NODES_PER_PROJECT)):
            project = canvases.create(conn, NODES_PER_PROJECT, "submit")
            for node_id in project.node_ids:
                body = {"projectId": project.id, "nodeId": node_id, "model": "flux-dev"}
                body["prompt"] = "a lighthouse at dawn [sim:never_complete]"
                bodies.append(json.dumps(body).encode())
    return bodies[:count]


def _cold_starts(
    context: Context, submit: served.Function, hello: served.Function, count: int
) -> dict[str, list[float]]:
    """Start each function `count` times, alternating; return ms from process start to first answer."""
    found: dict[str, list[float]] = {submit.name: [], hello.name: []}
    for index in range(count):
        for function in (submit, hello) if index % 2 == 0 else (hello, submit):
            context.progress.step(f"cold start {index + 1}/{count}: {function.name}")
            port = served.free_port()
            began = time.perf_counter()
            process = served.start(function, port)
            try:
                served.first_answer(port, process)
                found[function.name].append((time.perf_counter() - began) * 1000)
            finally:
                served.stop(process)
    return found


def _rows(
    ours: list[load.Outcome], baseline: list[load.Outcome], starts: dict[str, list[float]]
) -> list[Row]:
    case = f"{CALLERS} callers"
    accepted = sum(outcome.statuses[202] for outcome in ours)
    answered = sum(len(outcome.latencies) for outcome in ours)
    note = f"{accepted}/{answered} answered 202" if accepted != answered else ""
    hello = "hello world"

    def figure(outcomes: list[load.Outcome], what: str) -> Figure:
        if what == "rps":
            return Figure.of([o.per_second for o in outcomes], "req/s")
        pick = median if what == "p50" else p95
        return Figure.of([pick(o.latencies) for o in outcomes], "ms")

    rows = [
        Row(
            BENCHMARK,
            case,
            "requests/s (higher is better)",
            figure(ours, "rps"),
            hello,
            figure(baseline, "rps"),
            note,
        ),
        Row(BENCHMARK, case, "p50 latency, ms", figure(ours, "p50"), hello, figure(baseline, "p50")),
        Row(BENCHMARK, case, "p95 latency, ms", figure(ours, "p95"), hello, figure(baseline, "p95")),
    ]
    rows.append(
        Row(
            BENCHMARK,
            "cold start",
            "process start → first answer, ms",
            Figure.of(starts["submit"], "ms"),
            hello,
            Figure.of(starts[hello], "ms"),
            served.framework()[1],
        )
    )
    return rows
