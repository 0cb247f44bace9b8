"""Functions served the way Cloud Functions serves them (`functions-framework`), on free loopback ports.

The hello-world function is the baseline: the same server and framework, no code of ours. Both run
in the deployable environment (only `functions/requirements.txt`, as the artifact tests build it) when
it exists, since development packages change what gets imported (httpx imports rich when present).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from canvasgen_stack.services import functions_env

MAIN = PROJECT_ROOT / "functions" / "main.py"
REQUIREMENTS = PROJECT_ROOT / "functions" / "requirements.txt"
ARTIFACT_VENVS = PROJECT_ROOT / ".local" / "artifact-venv"
HELLO = '''"""Hello, world: the baseline function."""

import flask
import functions_framework


@functions_framework.http
def hello(request: flask.Request) -> flask.Response:
    """Answer every request with a fixed greeting."""
    return flask.Response("Hello, world!", mimetype="text/plain")
'''


@dataclass(frozen=True)
class Function:
    """One entry point and the environment it runs with."""

    name: str
    target: str
    source: Path
    env: dict[str, str]


def ours(settings: StackSettings, target: str) -> Function:
    """Return one of our entry points, configured for the local stack."""
    return Function(target, target, MAIN, functions_env(settings))


def hello(folder: Path) -> Function:
    """Write the hello-world function into `folder` and return it."""
    source = folder / "main.py"
    source.write_text(HELLO)
    return Function("hello world", "hello", source, {})


def framework() -> tuple[Path, str]:
    """Return the `functions-framework` to run and the environment it belongs to."""
    wanted = REQUIREMENTS.read_text()
    for ready in sorted(ARTIFACT_VENVS.glob("*/ready")):
        if ready.read_text() == wanted:
            return ready.parent / "bin" / "functions-framework", "deployable environment"
    return Path(sys.executable).with_name("functions-framework"), "development environment"


def free_port() -> int:
    """Return a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(function: Function, port: int) -> subprocess.Popen[bytes]:
    """Start `functions-framework` for one function (not waiting for it)."""
    command = [str(framework()[0]), "--target", function.target, "--source", str(function.source)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    env = {**os.environ, **function.env, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(  # noqa: S603
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )


def first_answer(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    """Poll until the server answers a request; return the status of that first answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"functions-framework exited with {process.returncode}"
            raise RuntimeError(msg)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            connection.request("POST", "/", body=b"{}", headers={"Content-Type": "application/json"})
            return connection.getresponse().status
        except OSError:
            time.sleep(0.005)
        finally:
            connection.close()
    msg = f"no answer on port {port} within {timeout:.0f} s"
    raise TimeoutError(msg)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by `start`, and everything it started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, 15)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, 9)
        process.wait()


@contextlib.contextmanager
def serving(function: Function) -> Iterator[tuple[int, int]]:
    """Serve a function for the block; yield its port and the pid of the process answering, once it does."""
    port = free_port()
    process = start(function, port)
    try:
        first_answer(port, process)
        yield port, _worker(process.pid)
    finally:
        stop(process)


def _worker(arbiter: int) -> int:
    """Return the gunicorn worker that functions-framework's server process started (itself if none)."""
    children = Path(f"/proc/{arbiter}/task/{arbiter}/children").read_text().split()
    return int(children[0]) if children else arbiter
