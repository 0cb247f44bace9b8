"""Resident memory of another process, from /proc: its level now and its peak over a stretch of time."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_SECONDS = 0.005


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    msg = f"/proc/{pid}/status has no {key}"
    raise RuntimeError(msg)


def resident_kib(pid: int) -> int:
    """Return the process's resident set size (VmRSS) in KiB."""
    return _status_kib(pid, "VmRSS")


@dataclass
class Peak:
    """The highest resident size seen while the block ran, in KiB."""

    kib: int = 0
    samples: int = field(default=0)


@contextlib.contextmanager
def peak(pid: int) -> Iterator[Peak]:
    """Track a process's peak resident size during the block (VmHWM, reset first, and sampling)."""
    found = Peak(resident_kib(pid))
    # Writing 5 to clear_refs resets the kernel's high-water mark, so VmHWM covers only this block;
    # sampling stays as a second source where that is not allowed.
    with contextlib.suppress(OSError):
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(SAMPLE_SECONDS):
            with contextlib.suppress(OSError, RuntimeError):
                found.kib = max(found.kib, resident_kib(pid))
                found.samples += 1

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield found
    finally:
        stop.set()
        sampler.join()
        with contextlib.suppress(OSError, RuntimeError):
            found.kib = max(found.kib, _status_kib(pid, "VmHWM"))
