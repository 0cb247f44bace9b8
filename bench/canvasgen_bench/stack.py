"""The benchmarks' own local stack: the dev stack's layout 2000 ports higher, with its own state folder."""

from __future__ import annotations

from canvasgen_stack import supervisor
from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from canvasgen_stack.services import services

PORT_OFFSET = 2000
ALICE_ID = "a11ce000-0000-4000-8000-000000000001"
ALICE_EMAIL = "alice@example.com"


def bench_settings() -> StackSettings:
    """Return the settings of the benchmark stack (no scheduler: nothing may run beside a benchmark)."""
    return StackSettings(
        state_dir=PROJECT_ROOT / ".local" / "bench",
        api_port=54321 + PORT_OFFSET,
        db_port=54322 + PORT_OFFSET,
        studio_port=54323 + PORT_OFFSET,
        storage_port=54326 + PORT_OFFSET,
        fal_port=54327 + PORT_OFFSET,
        functions_port=54328 + PORT_OFFSET,
        reconcile_interval_seconds=0,
    )


def ensure_up(settings: StackSettings) -> bool:
    """Start whatever part of the stack is not running; return whether all of it was running already."""
    running = supervisor.status(settings)["running"]
    was_up = isinstance(running, dict) and all(running.values())
    supervisor.up(settings)
    return was_up


def down(settings: StackSettings) -> None:
    """Stop the whole stack."""
    supervisor.down(settings)


def pid(settings: StackSettings, name: str) -> int:
    """Return the pid of a running service of the stack."""
    found = supervisor.running_pid(settings, name)
    if found is None:
        msg = f"{name} is not running"
        raise RuntimeError(msg)
    return found


def stop(settings: StackSettings, name: str) -> None:
    """Stop one service of the stack."""
    supervisor.stop_service(settings, name)


def start(settings: StackSettings, name: str) -> None:
    """Start one service of the stack (unless it runs) and wait until it answers."""
    service = next(s for s in services(settings) if s.name == name)
    supervisor.start_service(settings, service)
