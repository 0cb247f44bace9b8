"""Sampling profiles of the stack's processes while a benchmark runs (py-spy), kept as short text summaries.

A summary lists the functions holding the most samples, by their own time and with their callees,
which is what was needed to find the causes of the poor figures.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

PY_SPY = Path(sys.executable).with_name("py-spy")
RATE = 200


@contextlib.contextmanager
def recording(pid: int, output: Path, title: str) -> Iterator[None]:
    """Sample `pid` with py-spy during the block, then write the summary to `output` under `title`."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="canvasgen-profile-") as folder:
        raw = Path(folder) / "stacks.txt"
        with _py_spy(pid, raw):
            yield
        if raw.exists():
            output.write_text(f"{title}\n\n{summary(raw.read_text())}")


@contextlib.contextmanager
def _py_spy(pid: int, raw: Path) -> Iterator[None]:
    command = [str(PY_SPY), "record", "--pid", str(pid), "--format", "raw", "--output", str(raw)]
    command += ["--rate", str(RATE), "--nonblocking"]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()


def summary(collapsed: str, top: int = 25) -> str:
    """Return the functions with the most samples: by own time, then including what they call."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    lines = [f"{total} samples at {RATE} Hz (py-spy record)", "", "own time:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)] if total else []
    lines += ["", "with callees:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)] if total else []
    return "\n".join(lines) + "\n"
