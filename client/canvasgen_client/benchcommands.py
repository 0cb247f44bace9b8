"""`canvasgen bench`: run the benchmarks on their own local stack and write the results."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from canvasgen_stack.config import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs" / "benchmarks.md"
RESULTS = PROJECT_ROOT / "bench-results.json"


def register(commands: Any) -> None:
    """Add the `bench` subcommand."""
    bench = commands.add_parser("bench", help="run the benchmarks (starts their local stack if needed)")
    bench.add_argument(
        "--quick", action="store_true", help="a reduced run (under two minutes) that leaves the docs alone"
    )
    bench.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    bench.add_argument(
        "--profile",
        action="store_true",
        help="also sample the busy processes with py-spy into docs/profiles/ (figures then suffer)",
    )
    bench.add_argument(
        "--only",
        action="append",
        choices=["patch", "propagation", "relay", "submit", "fanout"],
        help="run only this benchmark (repeatable)",
    )
    bench.add_argument(
        "--results", type=Path, default=RESULTS, help=f"JSON results file (default {RESULTS.name})"
    )
    bench.add_argument(
        "--docs",
        type=Path,
        default=None,
        help="Markdown page to write (default: docs/benchmarks.md, full runs only)",
    )
    bench.set_defaults(handler=_bench)


def _bench(args: argparse.Namespace) -> int:
    # The benchmarks import the functions package, boto3 and the stack; only this command needs them.
    from canvasgen_bench import report, runner

    command = "canvasgen bench" + (" --quick" if args.quick else "")
    results = runner.run(command, args.quick, args.only or (), profile=args.profile)
    whole = not (args.quick or args.only or args.profile)
    docs = args.docs or (DOCS if whole else None)
    report.write(results, docs, args.results)
    if args.json:
        print(json.dumps(results.to_json(), indent=2))
    else:
        print(report.text_table(results.rows))
        for name, error in results.failures.items():
            print(f"canvasgen bench: {name} failed: {error}", file=sys.stderr)
    return 1 if results.failures else 0
