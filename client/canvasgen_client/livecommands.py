"""`canvasgen generate` and `canvasgen watch`: start generations and follow nodes live from a terminal."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from typing import Any, TextIO

from canvasgen_client.api import ApiError, CanvasApi
from canvasgen_client.nodestate import NodeChanged, NodeCompleted, NodeEvent, NodeFailed, NodeLoading
from canvasgen_client.watch import ProjectWatcher
from canvasgen_stack.config import StackSettings

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def register(commands: Any) -> None:
    """Add the `generate` and `watch` subcommands."""
    generate = commands.add_parser("generate", help="start a generation for a node")
    _connection_options(generate)
    generate.add_argument("--node", required=True)
    generate.add_argument("--model", required=True)
    generate.add_argument("--prompt", required=True)
    generate.add_argument("--duration", type=int)
    generate.add_argument("--aspect-ratio")
    generate.add_argument("--image-url")
    generate.add_argument("--wait", action="store_true", help="follow the node until it completes or fails")
    generate.set_defaults(handler=lambda args: asyncio.run(_generate(args)))
    watch = commands.add_parser("watch", help="print every node state change of a project as it happens")
    _connection_options(watch)
    watch.set_defaults(handler=lambda args: asyncio.run(_watch(args)))


def _connection_options(parser: argparse.ArgumentParser) -> None:
    local = StackSettings()
    parser.add_argument("--project", required=True, help="project id")
    parser.add_argument(
        "--token",
        default=os.environ.get("CANVASGEN_TOKEN"),
        help="user access token (default: $CANVASGEN_TOKEN)",
    )
    parser.add_argument(
        "--api-url",
        default=os.environ.get("CANVASGEN_API_URL", local.api_url),
        help="Supabase-style API URL serving /functions/v1 and /realtime/v1",
    )
    parser.add_argument("--anon-key", default=os.environ.get("CANVASGEN_ANON_KEY", local.anon_key))


def _watcher(args: argparse.Namespace, api: CanvasApi, on_event: Any) -> ProjectWatcher:
    realtime_url = args.api_url.rstrip("/").replace("http", "ws", 1) + "/realtime/v1"
    return ProjectWatcher(
        realtime_url=realtime_url,
        apikey=args.anon_key,
        token=args.token,
        api=api,
        project_id=args.project,
        on_event=on_event,
    )


def _api(args: argparse.Namespace) -> CanvasApi:
    if not args.token:
        raise SystemExit("canvasgen: a token is required (--token or CANVASGEN_TOKEN)")
    return CanvasApi(args.api_url.rstrip("/") + "/functions/v1", args.token)


async def _generate(args: argparse.Namespace) -> int:
    api = _api(args)
    body = {
        "projectId": args.project,
        "nodeId": args.node,
        "model": args.model,
        "prompt": args.prompt,
        "duration": args.duration,
        "aspectRatio": args.aspect_ratio,
        "imageUrl": args.image_url,
    }
    try:
        accepted = await api.submit({k: v for k, v in body.items() if v is not None})
    except ApiError as exc:
        print(f"canvasgen: {exc}", file=sys.stderr)
        await api.close()
        return 1
    print(f"submitted: request {accepted['requestId']}, job {accepted['jobId']}", flush=True)
    if not args.wait:
        await api.close()
        return 0
    return await _wait_for_node(args, api)


async def _wait_for_node(args: argparse.Namespace, api: CanvasApi) -> int:
    outcome: asyncio.Future[NodeEvent] = asyncio.get_running_loop().create_future()

    def on_event(event: NodeEvent) -> None:
        if (
            event.node_id == args.node
            and isinstance(event, NodeCompleted | NodeFailed)
            and not outcome.done()
        ):
            outcome.set_result(event)

    watcher = _watcher(args, api, on_event)
    watcher.tracker.expect_loading(args.node)
    await watcher.start()
    spinner = asyncio.ensure_future(_spin(sys.stdout, time.monotonic()))
    try:
        event = await outcome
    finally:
        spinner.cancel()
        await watcher.stop()
        await api.close()
    if isinstance(event, NodeCompleted):
        print(event.url)
        return 0
    assert isinstance(event, NodeFailed)
    print(f"canvasgen: generation failed: {event.message} ({event.code})", file=sys.stderr)
    return 1


async def _spin(out: TextIO, started: float) -> None:
    if not out.isatty():
        return
    try:
        for frame in itertools.cycle(SPINNER):
            out.write(f"\r{frame} generating… {time.monotonic() - started:5.0f}s")
            out.flush()
            await asyncio.sleep(0.1)
    finally:
        out.write("\r\033[K")
        out.flush()


def describe(event: NodeEvent) -> str:
    """Render one node event as a line."""
    if isinstance(event, NodeLoading):
        where = f" (queue position {event.queue_position})" if event.queue_position is not None else ""
        return f"{event.node_id}: loading{where}"
    if isinstance(event, NodeCompleted):
        return f"{event.node_id}: completed {event.media_type or ''} {event.url}".replace("  ", " ")
    if isinstance(event, NodeFailed):
        return f"{event.node_id}: failed: {event.message} ({event.code})"
    assert isinstance(event, NodeChanged)
    return f"{event.node_id}: changed"


async def _watch(args: argparse.Namespace) -> int:
    api = _api(args)
    watcher = _watcher(args, api, lambda event: print(describe(event), flush=True))
    await watcher.start()
    print(f"watching project {args.project} (Ctrl-C stops)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await watcher.stop()
        await api.close()
    return 0
