"""A JWKS endpoint on a loopback port, for tests of token verification against published keys."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Keys = Callable[[], dict[str, Any]]


@dataclass
class JwksServer:
    """Where the keys are published, and how often they were fetched."""

    url: str
    fetches: int = 0


@contextmanager
def serve_jwks(keys: Keys, path: str = "/.well-known/jwks.json") -> Iterator[JwksServer]:
    """Publish `keys()` at `path` on 127.0.0.1 until the block ends."""
    published: list[JwksServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            if self.path != path:
                self.send_error(404)
                return
            published[0].fetches += 1
            body = json.dumps(keys()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    published.append(JwksServer(url=f"http://127.0.0.1:{server.server_port}{path}"))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield published[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
