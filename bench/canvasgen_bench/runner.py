"""Run the benchmarks in order on the benchmark stack (started if needed) and collect their rows."""

from __future__ import annotations

import inspect
import os
import platform
import subprocess
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import psycopg

from canvasgen_bench import canvases, fanout, patch, propagation, relay, stack, submit
from canvasgen_bench.context import Context
from canvasgen_bench.progress import Progress
from canvasgen_bench.report import Results
from canvasgen_bench.rows import Row
from canvasgen_stack.config import PROJECT_ROOT, StackSettings

BENCHMARKS: dict[str, ModuleType] = {
    "patch": patch,
    "propagation": propagation,
    "relay": relay,
    "submit": submit,
    "fanout": fanout,
}
PROFILES = PROJECT_ROOT / "docs" / "profiles"


def run(
    command: str,
    quick: bool,
    only: Sequence[str] = (),
    settings: StackSettings | None = None,
    progress: Progress | None = None,
    profile: bool = False,
) -> Results:
    """Run the chosen benchmarks (all by default); a failing one is reported, the others still run."""
    chosen = [name for name in BENCHMARKS if not only or name in only]
    progress = progress or Progress(total=len(chosen) + 1)
    began = time.monotonic()
    # The benchmarks' own stack is left as it was found: stopped again if this run started it.
    own = settings is None
    settings = settings or stack.bench_settings()
    progress.begin("local stack")
    was_up = stack.ensure_up(settings)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        canvases.delete_all(conn)
        postgres = conn.execute("show server_version").fetchone()
    progress.end("up")
    results = Results(command, quick, _now(), _machine(str(postgres[0]) if postgres else "?"))
    context = Context(settings, quick, progress, PROFILES if profile else None)
    for name in chosen:
        module = BENCHMARKS[name]
        results.methods[module.BENCHMARK] = _method(module)
        progress.begin(module.BENCHMARK)
        rows = _attempt(module.run, context, name, results.failures)
        results.rows += rows
        progress.end(f"{len(rows)} rows" if name not in results.failures else "failed")
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        canvases.delete_all(conn)
    if own and not was_up:
        stack.down(settings)
    results.machine["load average after"] = _load()
    results.seconds = time.monotonic() - began
    return results


def _attempt(
    benchmark: Callable[[Context], list[Row]], context: Context, name: str, failures: dict[str, str]
) -> list[Row]:
    try:
        return benchmark(context)
    except Exception as exc:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        failures[name] = f"{type(exc).__name__}: {exc}"
        return []


def _method(module: ModuleType) -> str:
    doc = inspect.getdoc(module) or ""
    _, _, body = doc.partition(": ")
    text = " ".join((body or doc).split())
    return text[:1].upper() + text[1:]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _machine(postgres: str) -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    memory_kib = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    return {
        "CPU": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{memory_kib / 1024**2:.0f} GiB",
        "system": platform.platform(),
        "Python": platform.python_version(),
        "PostgreSQL": postgres,
        "revision": _revision(),
        "load average before": _load(),
    }


def _revision() -> str:
    def git(*args: str) -> str:
        found = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
        return found.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    return f"{commit} with uncommitted changes" if git("status", "--porcelain") else commit
