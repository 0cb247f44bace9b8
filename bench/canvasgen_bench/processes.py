"""The driver's side of a subscriber process (`canvasgen_bench.subscribers`): arm, wait, read the time."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import time
from typing import Any


class SubscriberProcess:
    """N subscribers in a child process, started and ready on construction."""

    def __init__(self, config: dict[str, Any], timeout: float = 180.0) -> None:
        self._process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "canvasgen_bench.subscribers", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._collect, daemon=True).start()
        self._wait_for("ready", timeout)

    def _collect(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line.strip())
        self._lines.put("exited")

    def _wait_for(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line.startswith(prefix):
                return line
            if line == "exited":
                msg = f"the subscriber process exited with {self._process.wait()}"
                raise RuntimeError(msg)
        msg = f"the subscriber process did not say {prefix!r} within {timeout:.0f} s"
        raise TimeoutError(msg)

    @property
    def pid(self) -> int:
        return self._process.pid

    def arm(self, node: str) -> None:
        """Tell the subscribers which node to wait for, and wait until they have heard it."""
        assert self._process.stdin is not None
        self._process.stdin.write(f"expect {node}\n")
        self._process.stdin.flush()
        self._wait_for(f"armed {node}", 30.0)

    def last_arrival(self, node: str, timeout: float = 30.0) -> float:
        """Return the monotonic time at which the last subscriber held the node."""
        return float(self._wait_for(f"done {node} ", timeout).split()[2])

    def close(self) -> None:
        """Ask the process to quit; kill it if it lingers."""
        with contextlib.suppress(OSError, ValueError):
            assert self._process.stdin is not None
            self._process.stdin.write("quit\n")
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
