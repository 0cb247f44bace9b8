"""What every benchmark is handed: the stack, the size of the run, and where to report progress."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from canvasgen_bench import profiles
from canvasgen_bench.progress import Progress
from canvasgen_stack.config import StackSettings


@dataclass(frozen=True)
class Context:
    """One benchmark run."""

    settings: StackSettings
    quick: bool
    progress: Progress
    profiles: Path | None = None

    def pick(self, full: int, quick: int) -> int:
        """Return the full run's count, or the quick run's."""
        return quick if self.quick else full

    @contextlib.contextmanager
    def profiling(self, pid: int, name: str, title: str) -> Iterator[None]:
        """Profile a process during the block when this run keeps profiles (`--profile`)."""
        if self.profiles is None:
            yield
            return
        with profiles.recording(pid, self.profiles / f"{name}.txt", title):
            yield
