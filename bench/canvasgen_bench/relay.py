"""Benchmark 3: a large video relayed by `fal-webhook` from the fal simulator into storage.

Ours: the genuine delivery of a `[sim:drop,large_media=…]` job posted through the gateway; the
webhook streams the media from the simulator into the bucket before it answers, so the request's
duration is the relay's. Baseline, in the same rounds: boto3's own `upload_file` of the same bytes
from local disk, with the same client settings. Before each relay the functions host is restarted
and relays one small video; its resident memory is then tracked during the large relay and compared
with its level just before.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg
from botocore.config import Config

from canvasgen_bench import canvases, memory, stack
from canvasgen_bench.context import Context
from canvasgen_bench.generations import Generation, Generations
from canvasgen_bench.rows import Row
from canvasgen_bench.stats import Figure
from canvasgen_stack.config import StackSettings
from canvasgen_stack.services import STORAGE_ACCESS_KEY

BENCHMARK = "3. media relay"
MIB = 1024 * 1024
VIDEO_MODEL = "kling-v2.5-turbo-pro"


def run(context: Context) -> list[Row]:
    """Run benchmark 3 and return its rows."""
    rounds = context.pick(3, 2)
    sizes = (50, 500) if not context.quick else (20, 50)
    settings = context.settings
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        project = canvases.create(conn, 2 * rounds * len(sizes), "relay")
    generations = Generations(settings)
    storage = _storage(settings)
    relay: dict[int, list[float]] = {size: [] for size in sizes}
    upload: dict[int, list[float]] = {size: [] for size in sizes}
    peak: dict[int, list[float]] = {size: [] for size in sizes}
    try:
        with tempfile.TemporaryDirectory(prefix="canvasgen-bench-") as folder:
            nodes = iter(project.node_ids)
            for size in sizes:
                for round_index in range(rounds):
                    context.progress.step(f"{size} MiB, round {round_index + 1}/{rounds}: rendering")
                    warmup = generations.submit(project.id, next(nodes), "warm-up [sim:drop]", VIDEO_MODEL)
                    prompt = f"relay [sim:drop,large_media={size}M]"
                    generation = generations.submit(project.id, next(nodes), prompt, VIDEO_MODEL)
                    output = generations.output(generation)
                    _fresh_instance(settings, generations, warmup)
                    local = Path(folder) / f"{size}.mp4"
                    if not local.exists():
                        _download(output["video"]["url"], local)
                    context.progress.step(f"{size} MiB, round {round_index + 1}/{rounds}: relaying")
                    functions = stack.pid(settings, "functions")
                    title = f"The functions host relaying a {size} MiB video (fal simulator → storage)."
                    with context.profiling(functions, f"relay-{size}MiB-functions", title):
                        seconds, peak_kib = _relay(settings, generations, generation, output)
                    relay[size].append(size / seconds)
                    peak[size].append(peak_kib / 1024)
                    context.progress.step(f"{size} MiB, round {round_index + 1}/{rounds}: upload_file")
                    upload[size].append(size / _upload(storage, settings.bucket, local))
                    _delete_objects(storage, settings.bucket, project.id)
    finally:
        generations.close()
    return _rows(sizes, relay, upload, peak)


def _storage(settings: StackSettings) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=settings.storage_url,
        region_name="us-east-1",
        aws_access_key_id=STORAGE_ACCESS_KEY,
        aws_secret_access_key=STORAGE_ACCESS_KEY,
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def _download(url: str, path: Path) -> None:
    with httpx.stream("GET", url, timeout=600.0) as response, path.open("wb") as file:
        response.raise_for_status()
        for chunk in response.iter_bytes(MIB):
            file.write(chunk)


def _fresh_instance(settings: StackSettings, generations: Generations, warmup: Generation) -> None:
    """Restart the functions host and relay one small video, so each measurement starts from a warm instance.

    A process keeps memory it has freed (glibc), so without a restart a relay would be measured
    against the level the previous relays left behind.
    """
    stack.stop(settings, "functions")
    stack.start(settings, "functions")
    generations.deliver(warmup, generations.output(warmup))


def _relay(
    settings: StackSettings, generations: Generations, generation: Generation, output: Any
) -> tuple[float, int]:
    """Deliver the webhook; return its duration and the function process's peak above its idle level."""
    pid = stack.pid(settings, "functions")
    idle = memory.resident_kib(pid)
    with memory.peak(pid) as found:
        started = time.perf_counter()
        generations.deliver(generation, output)
        seconds = time.perf_counter() - started
    return seconds, found.kib - idle


def _upload(storage: Any, bucket: str, path: Path) -> float:
    started = time.perf_counter()
    storage.upload_file(str(path), bucket, f"bench/{path.name}")
    seconds = time.perf_counter() - started
    storage.delete_object(Bucket=bucket, Key=f"bench/{path.name}")
    return seconds


def _delete_objects(storage: Any, bucket: str, project_id: str) -> None:
    listed = storage.list_objects_v2(Bucket=bucket, Prefix=f"generations/{project_id}/")
    for item in listed.get("Contents", []):
        storage.delete_object(Bucket=bucket, Key=item["Key"])


def _rows(
    sizes: tuple[int, ...],
    relay: dict[int, list[float]],
    upload: dict[int, list[float]],
    peak: dict[int, list[float]],
) -> list[Row]:
    rows = [
        Row(
            BENCHMARK,
            f"{size} MiB video",
            "relay throughput, MiB/s (higher is better)",
            Figure.of(relay[size], "MiB/s"),
            "boto3 upload_file from disk",
            Figure.of(upload[size], "MiB/s"),
        )
        for size in sizes
    ]
    small, large = sizes
    rows.append(
        Row(
            BENCHMARK,
            f"{small} MiB video",
            "function's peak RSS above idle, MiB",
            Figure.of(peak[small], "MiB"),
        )
    )
    rows.append(
        Row(
            BENCHMARK,
            f"{large} MiB video",
            "function's peak RSS above idle, MiB",
            Figure.of(peak[large], "MiB"),
            f"same at {small} MiB",
            Figure.of(peak[small], "MiB"),
        )
    )
    return rows
