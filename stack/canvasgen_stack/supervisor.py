"""Start, watch and stop the local stack: PostgreSQL, then each service process.

Each process gets a pid file under `<state>/run` and a log under `<state>/logs`, so `canvasgen dev down`
from another shell can stop a detached stack.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from canvasgen_stack import cluster, schema
from canvasgen_stack.config import StackSettings
from canvasgen_stack.services import Service, services, stack_env


class StackError(RuntimeError):
    """A part of the local stack did not start."""


def _pid_file(settings: StackSettings, name: str) -> Path:
    return settings.path("run", f"{name}.pid")


def running_pid(settings: StackSettings, name: str) -> int | None:
    """Return the pid of a running service, if its pid file names a live process."""
    try:
        pid = int(_pid_file(settings, name).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def prepare_database(settings: StackSettings) -> None:
    """Create and start the cluster, then bring its schema up to date."""
    cluster.create(settings)
    cluster.start(settings)
    schema.prepare(settings)


def start_service(settings: StackSettings, service: Service, timeout: float = 60.0) -> int:
    """Start one service (unless it runs) and wait until it answers."""
    pid = running_pid(settings, service.name)
    if pid is not None:
        return pid
    if service.port is not None and _port_open(settings.host, service.port):
        msg = f"port {service.port} for {service.name} is taken by another program"
        raise StackError(msg)
    log = settings.path("logs", f"{service.name}.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    _pid_file(settings, service.name).parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **stack_env(settings), **service.env, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603
            service.command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    _pid_file(settings, service.name).write_text(str(process.pid))
    _wait_ready(settings, service, process, log, timeout)
    return process.pid


def _wait_ready(
    settings: StackSettings, service: Service, process: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"{service.name} exited with {process.returncode}; see {log}"
            raise StackError(msg)
        if _answers(settings.host, service):
            return
        time.sleep(0.1)
    msg = f"{service.name} did not answer on port {service.port} within {timeout:.0f} s; see {log}"
    raise StackError(msg)


def _answers(host: str, service: Service) -> bool:
    if service.port is None:
        return True
    if service.health_path is None:
        return _port_open(host, service.port)
    try:
        return httpx.get(f"http://{host}:{service.port}{service.health_path}", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def stop_service(settings: StackSettings, name: str, timeout: float = 10.0) -> None:
    """Stop one service: SIGTERM to the process, then SIGKILL to whatever is left of its process group."""
    pid = running_pid(settings, name)
    _pid_file(settings, name).unlink(missing_ok=True)
    if pid is None:
        return
    # Only the service itself gets SIGTERM, so it can stop its own children (the Realtime decoder) in order.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    _signal_group(pid, signal.SIGKILL)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _alive(pid: int) -> bool:
    # A child of ours that died stays a zombie, which signal 0 still reaches, until it is reaped.
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def up(settings: StackSettings) -> None:
    """Start the whole stack; what already runs is left running."""
    prepare_database(settings)
    for service in services(settings):
        start_service(settings, service)


def down(settings: StackSettings) -> None:
    """Stop every service and the cluster."""
    for service in reversed(services(settings)):
        stop_service(settings, service.name)
    cluster.stop(settings)


def start_named(settings: StackSettings, name: str) -> None:
    """Start one service of the stack by name."""
    start_service(settings, next(s for s in services(settings) if s.name == name))


def restart_service(settings: StackSettings, name: str) -> None:
    """Stop and start one service (used by the fault tests)."""
    stop_service(settings, name)
    start_named(settings, name)


def status(settings: StackSettings) -> dict[str, object]:
    """Describe the stack: URLs, keys, and which parts run."""
    running = {s.name: running_pid(settings, s.name) is not None for s in services(settings)}
    running["database"] = cluster.is_running(settings)
    return {
        "apiUrl": settings.api_url,
        "functionsUrl": settings.functions_url,
        "realtimeUrl": settings.realtime_url,
        "dbUrl": settings.database_url,
        "storageUrl": settings.storage_url,
        "mediaBaseUrl": settings.media_base_url,
        "falUrl": settings.fal_url,
        "studioUrl": settings.studio_url,
        "anonKey": settings.anon_key,
        "serviceRoleKey": settings.service_role_key,
        "jwtSecret": settings.jwt_secret,
        "stateDir": str(settings.state_dir),
        "running": running,
    }
