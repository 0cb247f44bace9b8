"""`canvasgen dev ...`: run the local stack and hand out its keys and tokens."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

import psycopg

from canvasgen_stack import supervisor
from canvasgen_stack.config import StackSettings


def register(commands: Any) -> None:
    """Add the `dev` subcommands."""
    dev = commands.add_parser("dev", help="the local stack").add_subparsers(dest="dev_command", required=True)
    up = dev.add_parser("up", help="start the local stack (in the foreground unless --detach)")
    up.add_argument("--detach", action="store_true", help="start and return, leaving the stack running")
    up.set_defaults(handler=_up)
    dev.add_parser("down", help="stop the local stack").set_defaults(handler=_down)
    status = dev.add_parser("status", help="URLs, keys and what runs")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=_status)
    token = dev.add_parser("token", help="print an access token for a local user (created if missing)")
    token.add_argument("--email", required=True)
    token.add_argument("--lifetime", type=int, default=24 * 3600, help="seconds the token is valid")
    token.set_defaults(handler=_token)


def _up(args: argparse.Namespace) -> int:
    settings = StackSettings()
    try:
        supervisor.up(settings)
    except (supervisor.StackError, RuntimeError) as exc:
        print(f"canvasgen: {exc}", file=sys.stderr)
        supervisor.down(settings)
        return 1
    _print_summary(settings)
    if args.detach:
        return 0
    print("\nRunning. Press Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        dead = [name for name, alive in supervisor.status(settings)["running"].items() if not alive]  # type: ignore[attr-defined]
        if dead:
            print(f"canvasgen: {', '.join(dead)} stopped; shutting the stack down", file=sys.stderr)
            break
    supervisor.down(settings)
    print("Stopped.")
    return 0


def _print_summary(settings: StackSettings) -> None:
    info = supervisor.status(settings)
    rows = [
        ("Canvas page", info["studioUrl"]),
        ("API gateway", info["apiUrl"]),
        ("Functions", info["functionsUrl"]),
        ("Realtime", info["realtimeUrl"]),
        ("Database", info["dbUrl"]),
        ("Storage (S3)", info["storageUrl"]),
        ("Media base URL", info["mediaBaseUrl"]),
        ("fal queue (local)", info["falUrl"]),
        ("anon key", info["anonKey"]),
        ("service_role key", info["serviceRoleKey"]),
        ("Logs", str(settings.path("logs"))),
    ]
    print("canvasgen local stack is up\n")
    for label, value in rows:
        print(f"  {label:<18} {value}")


def _down(args: argparse.Namespace) -> int:
    supervisor.down(StackSettings())
    print("Stopped.")
    return 0


def _status(args: argparse.Namespace) -> int:
    info = supervisor.status(StackSettings())
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key}: {value}")
    return 0


def _token(args: argparse.Namespace) -> int:
    settings = StackSettings()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        row = conn.execute(
            "insert into auth.users (email) values (%s)"
            " on conflict (email) do update set email = excluded.email returning id",
            (args.email,),
        ).fetchone()
    assert row is not None
    print(settings.user_token(str(row[0]), args.email, args.lifetime))
    return 0
