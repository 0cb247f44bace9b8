"""A one-line progress display on stderr: the benchmark, its step, and the time spent so far."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Rewrites one status line on a terminal; prints one line per step elsewhere (logs, CI)."""

    def __init__(self, stream: TextIO | None = None, total: int = 0) -> None:
        self._stream = stream or sys.stderr
        self._live = self._stream.isatty()
        self._total = total
        self._index = 0
        self._name = ""
        self._started = time.monotonic()
        self._width = 0

    def begin(self, name: str) -> None:
        """Start the next benchmark."""
        self._index += 1
        self._name = name
        self._started = time.monotonic()
        self.step("starting")

    def step(self, text: str) -> None:
        """Show what the current benchmark is doing."""
        elapsed = time.monotonic() - self._started
        line = f"[{self._index}/{self._total}] {self._name}: {text} ({elapsed:.0f} s)"
        if self._live:
            self._stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    def end(self, summary: str) -> None:
        """Close the current benchmark's line with a summary."""
        self.step(summary)
        if self._live:
            self._stream.write("\n")
            self._width = 0
        self._stream.flush()
