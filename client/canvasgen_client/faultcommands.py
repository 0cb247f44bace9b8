"""`canvasgen faults`: run the fault-injection suite on a stack of its own and write docs/reliability.md."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from canvasgen_stack import supervisor
from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from canvasgen_stack.reliability import report
from canvasgen_stack.reliability.harness import Harness

# The dev stack's ports moved by 2500, so the suite can run beside `make dev` and the tests.
PORT_OFFSET = 2500


def register(commands: Any) -> None:
    """Add the `faults` subcommand."""
    faults = commands.add_parser("faults", help="run the fault-injection suite and write docs/reliability.md")
    faults.add_argument("--runs", type=int, default=3, help="runs of each scenario")
    faults.add_argument("--output", type=Path, default=PROJECT_ROOT / "docs" / "reliability.md")
    faults.set_defaults(handler=_faults)


def suite_settings() -> StackSettings:
    """Return the settings of the suite's own stack, with short reconciliation thresholds."""
    dev = StackSettings()
    ports = {
        name: getattr(dev, name) + PORT_OFFSET
        for name in ("api_port", "db_port", "studio_port", "storage_port", "fal_port", "functions_port")
    }
    return StackSettings(
        state_dir=PROJECT_ROOT / ".local" / "faults",
        reconcile_interval_seconds=0,
        reconcile_after_seconds=2,
        job_timeout_seconds=8,
        **ports,
    )


def _faults(args: argparse.Namespace) -> int:
    settings = suite_settings()
    print(f"Starting the suite's stack in {settings.state_dir} …", flush=True)
    supervisor.up(settings)
    harness = Harness(settings)
    try:
        rows = report.run(harness, args.runs, progress=lambda line: print(line, flush=True))
    finally:
        harness.close()
        supervisor.down(settings)
    print()
    print(report.table(rows))
    report.write_markdown(rows, args.output, f"make faults (canvasgen faults --runs {args.runs})")
    print(f"\nWritten to {args.output}")
    return 0 if all(row.clean for row in rows) else 1
