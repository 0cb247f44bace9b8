"""Helpers of the realtime tests: the server as a child process, a raw Phoenix socket, supabase-js."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from canvasgen_stack.config import PROJECT_ROOT, StackSettings

JS_SUBSCRIBER = Path(__file__).with_name("js") / "subscribe.mjs"
Frame = tuple[Any, Any, str, str, Any]


def free_port() -> int:
    """Return a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(settings: StackSettings, port: int) -> Iterator[StackSettings]:
    """Run `python -m canvasgen_stack.realtime` on `port` against the test database."""
    served = settings.model_copy(update={"api_port": port})
    env = {
        **os.environ,
        "CANVASGEN_HOST": settings.host,
        "CANVASGEN_API_PORT": str(port),
        "CANVASGEN_DB_PORT": str(settings.db_port),
        "CANVASGEN_STATE_DIR": str(settings.state_dir),
        "CANVASGEN_JWT_SECRET": settings.jwt_secret,
    }
    log = (settings.state_dir / "realtime-test.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "canvasgen_stack.realtime"], env=env, cwd=PROJECT_ROOT, stdout=log, stderr=log
    )
    try:
        _wait_for_port(settings.host, port, process)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the realtime server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.05)
    raise AssertionError(f"the realtime server did not listen on {port}")


@dataclass
class Phoenix:
    """A raw socket speaking vsn 1.0.0 or 2.0.0, for what the official clients never send."""

    connection: ClientConnection
    vsn: str
    ref: int = 0
    backlog: list[Frame] = field(default_factory=list)

    async def send(self, topic: str, event: str, payload: Any, join_ref: str | None = None) -> str:
        """Send a message and return its ref."""
        self.ref += 1
        ref = str(self.ref)
        if self.vsn == "2.0.0":
            await self.connection.send(json.dumps([join_ref, ref, topic, event, payload]))
        else:
            frame = {"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": join_ref}
            await self.connection.send(json.dumps(frame))
        return ref

    async def receive(self, timeout: float = 5.0) -> Frame:
        """Return the next frame as `(join_ref, ref, topic, event, payload)`."""
        if self.backlog:
            return self.backlog.pop(0)
        text = await asyncio.wait_for(self.connection.recv(), timeout)
        value = json.loads(text)
        if self.vsn == "2.0.0":
            join_ref, ref, topic, event, payload = value
            return join_ref, ref, topic, event, payload
        assert "join_ref" not in value, "a 1.0.0 server frame never carries join_ref"
        return None, value["ref"], value["topic"], value["event"], value["payload"]

    async def expect(self, check: Callable[[Frame], bool], timeout: float = 5.0) -> Frame:
        """Return the first frame `check` accepts; keep the others for later."""
        skipped: list[Frame] = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                frame = await self.receive(max(deadline - time.monotonic(), 0.01))
                if check(frame):
                    return frame
                skipped.append(frame)
        finally:
            self.backlog[:0] = skipped

    async def silent(self, seconds: float) -> list[Frame]:
        """Return whatever arrives within `seconds` (expected: nothing)."""
        frames = list(self.backlog)
        self.backlog.clear()
        with contextlib.suppress(TimeoutError):
            while True:
                frames.append(await self.receive(seconds))
        return frames

    async def join(self, topic: str, bindings: list[dict[str, Any]], token: str | None = None) -> Frame:
        """Join a channel with postgres_changes bindings and return the reply."""
        payload: dict[str, Any] = {"config": {"postgres_changes": bindings, "private": False}}
        if token is not None:
            payload["access_token"] = token
        ref = await self.send(topic, "phx_join", payload, join_ref=str(self.ref + 1))
        return await self.expect(lambda frame: frame[1] == ref)

    async def subscribed(
        self, topic: str, bindings: list[dict[str, Any]], token: str | None = None
    ) -> list[int]:
        """Join, wait for "Subscribed to PostgreSQL", and return the binding ids."""
        reply = await self.join(topic, bindings, token)
        assert reply[4]["status"] == "ok", reply
        await self.expect(lambda frame: frame[3] == "system" and frame[2] == topic)
        return [binding["id"] for binding in reply[4]["response"]["postgres_changes"]]


@contextlib.asynccontextmanager
async def phoenix(settings: StackSettings, token: str, vsn: str | None = "2.0.0"):  # type: ignore[no-untyped-def]
    """Open a raw socket to the realtime server."""
    query = f"apikey={token}" + (f"&vsn={vsn}" if vsn else "")
    url = f"ws://{settings.host}:{settings.api_port}/realtime/v1/websocket?{query}"
    async with websockets.connect(url, max_size=2**20) as connection:
        yield Phoenix(connection, vsn or "1.0.0")


def changes_of(frames: list[Frame]) -> list[Frame]:
    """Keep the postgres_changes frames."""
    return [frame for frame in frames if frame[3] == "postgres_changes"]


class JsSubscriber:
    """supabase-js in a Node process, printing what it receives as JSON lines."""

    def __init__(self, options: dict[str, Any]) -> None:
        command = [
            "node",
            "--experimental-websocket",
            "--no-warnings",
            str(JS_SUBSCRIBER),
            json.dumps(options),
        ]
        self.process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                self.lines.put(json.loads(line))

    def next_line(self, check: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
        """Return the first printed object `check` accepts."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(queue.Empty):
                if check(line := self.lines.get(timeout=left)):
                    return line
        raise AssertionError("supabase-js did not print the expected line")

    def close(self) -> None:
        """Stop the Node process."""
        self.process.kill()
        self.process.wait(timeout=10)
