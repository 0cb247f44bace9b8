"""Running the simulator as `python -m canvasgen_stack.falsim`."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .support import bound_socket


def test_module_serves_and_logs_json_lines(tmp_path: Path) -> None:
    """The module entry point serves /_sim/health on the given port and logs JSON lines to stderr."""
    with bound_socket() as sock:
        port = sock.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "canvasgen_stack.falsim",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/_sim/health", trust_env=False)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "simulator did not start"
                time.sleep(0.05)
        assert health.json()["base_url"] == f"http://127.0.0.1:{port}"
        assert (tmp_path / "webhook-signing-key.pem").exists()
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=15)
    lines = [json.loads(line) for line in stderr.decode().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
