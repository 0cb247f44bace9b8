"""Helpers for the fal simulator tests: servers in threads, a webhook receiver, a client, verification."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from starlette.requests import Request
from starlette.responses import Response

from canvasgen_stack.falsim.app import create_app
from canvasgen_stack.falsim.config import FalSimConfig

VIDEO_MODEL = "fal-ai/kling-video/v2.5-turbo/pro/text-to-video"
IMAGE_MODEL = "fal-ai/flux/dev"
KEY = {"Authorization": "Key local-key-id:local-key-secret"}
# Short delays keep the suite fast; the 1.1 s retry gap makes retried timestamps differ.
FAST: dict[str, Any] = {
    "queue_delay": 0.2,
    "processing_delay": 0.2,
    "retry_delays": [0.2, 1.1, 0.2],
    "delivery_timeout": 1.0,
}


def bound_socket() -> socket.socket:
    """Bind a loopback socket on a free port, so the port is known before the server starts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class Server:
    """An ASGI app served by uvicorn in a background thread."""

    app: Any
    sock: socket.socket

    def __post_init__(self) -> None:
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def serve_sim(data_dir: Path, **overrides: Any) -> Server:
    """Build (not start) a simulator server on a free loopback port."""
    sock = bound_socket()
    config = FalSimConfig(port=sock.getsockname()[1], data_dir=data_dir, **(FAST | overrides))
    return Server(create_app(config), sock)


@dataclass
class Delivery:
    """One webhook request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float


@dataclass
class Receiver:
    """A loopback webhook endpoint that records requests and answers from a plan."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    # Each entry is (status code, seconds to wait before answering); 200 at once when empty.
    plan: list[tuple[int, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hook(self, name: str = "hook") -> str:
        """Return a webhook URL on this receiver."""
        return f"{self.url}/{name}"

    def wait(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        """Wait until at least count deliveries arrived and return them all."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.deliveries) >= count:
                    return list(self.deliveries)
            assert time.monotonic() < deadline, f"expected {count} deliveries, got {len(self.deliveries)}"
            time.sleep(0.02)

    def reset(self) -> None:
        """Forget deliveries and the answer plan."""
        with self.lock:
            self.deliveries.clear()
            self.plan.clear()

    async def endpoint(self, request: Request) -> Response:
        """Record a delivery and answer as planned."""
        body = await request.body()
        with self.lock:
            self.deliveries.append(Delivery(request.url.path, dict(request.headers), body, time.time()))
            status, pause = self.plan.pop(0) if self.plan else (200, 0.0)
        await asyncio.sleep(pause)
        return Response(status_code=status)


@dataclass
class Sim:
    """A client for the simulator under test."""

    url: str
    http: httpx.Client

    def submit(
        self,
        prompt: str | None = "a cat",
        model: str = VIDEO_MODEL,
        webhook: str | None = None,
        **arguments: Any,
    ) -> httpx.Response:
        """Submit a request the way the backend does."""
        body = arguments | ({"prompt": prompt} if prompt is not None else {})
        params = {"fal_webhook": webhook} if webhook else {}
        return self.http.post(f"{self.url}/{model}", json=body, params=params, headers=KEY)

    def submitted(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Submit and return the successful submit response."""
        response = self.submit(*args, **kwargs)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def status(self, job: dict[str, Any]) -> dict[str, Any]:
        """Return the current status of a submitted job."""
        response = self.http.get(job["status_url"])
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait(self, job: dict[str, Any], status: str = "COMPLETED", timeout: float = 15.0) -> dict[str, Any]:
        """Poll until the job reaches status, returning the status body."""
        deadline = time.monotonic() + timeout
        while (current := self.status(job))["status"] != status:
            assert time.monotonic() < deadline, f"still {current['status']}"
            time.sleep(0.02)
        return current

    def admin(self, request_id: str) -> dict[str, Any]:
        """Return the simulator's record of a job."""
        body: dict[str, Any] = self.http.get(f"{self.url}/_sim/requests/{request_id}").json()
        return body

    def attempts(self, request_id: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until the simulator recorded at least count delivery attempts and return them."""
        deadline = time.monotonic() + timeout
        while len(attempts := self.admin(request_id)["attempts"]) < count:
            assert time.monotonic() < deadline, f"expected {count} attempts, got {len(attempts)}"
            time.sleep(0.02)
        result: list[dict[str, Any]] = attempts
        return result

    def faults(self, **faults: Any) -> None:
        """Set the global fault switches."""
        self.http.put(f"{self.url}/_sim/faults", json=faults).raise_for_status()


def verifies(jwks: dict[str, Any], delivery: Delivery) -> bool:
    """Verify a delivery the way fal documents it: any JWKS key over id, user, timestamp and body hash."""
    headers = delivery.headers
    message = "\n".join(
        [
            headers["x-fal-webhook-request-id"],
            headers["x-fal-webhook-user-id"],
            headers["x-fal-webhook-timestamp"],
            hashlib.sha256(delivery.body).hexdigest(),
        ]
    ).encode()
    signature = bytes.fromhex(headers["x-fal-webhook-signature"])
    for key in jwks["keys"]:
        x = key["x"]
        public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
        try:
            public.verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False
