"""Helpers of the end-to-end tests: canvases, users, the fal simulator's admin API, waiting for nodes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from canvasgen_stack.config import StackSettings
from canvasgen_stack.falsim.signing import Signer, load_signer

ALICE_ID = "a11ce000-0000-4000-8000-000000000001"
BOB_ID = "b0b00000-0000-4000-8000-000000000002"
Conn = psycopg.Connection[DictRow]


@dataclass(frozen=True)
class User:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Canvas:
    id: str
    content: dict[str, Any]

    def node_ids(self, kind: str) -> list[str]:
        return [n["id"] for n in self.content["nodes"] if n["type"] == kind]


def canvas_content(video_nodes: int, image_nodes: int, extra_nodes: int = 0) -> dict[str, Any]:
    """Build a canvas document shaped like React Flow's `toObject()`."""
    nodes = [{"id": "text-0", "type": "text", "position": {"x": 0, "y": 0}, "data": {"text": "a prompt"}}]
    for kind, count in (("video", video_nodes), ("image", image_nodes), ("text", extra_nodes)):
        for index in range(count):
            nodes.append(
                {
                    "id": f"{kind}-{index + 1}",
                    "type": kind,
                    "position": {"x": 300 * index, "y": 200},
                    "origin": [0, 0.5],
                    "measured": {"width": 320, "height": 240},
                    "data": {"instructions": f"{kind} number {index + 1}", "custom": {"keep": [1, 2, 3]}},
                }
            )
    edges = [{"id": "e1", "source": "text-0", "target": nodes[1]["id"], "type": "animated"}]
    return {"nodes": nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}}


def create_canvas(conn: Conn, user_id: str, video_nodes: int = 3, image_nodes: int = 2, **kw: int) -> Canvas:
    """Insert a project with a fresh id and return it."""
    project_id = str(uuid.uuid4())
    content = canvas_content(video_nodes, image_nodes, **kw)
    conn.execute(
        "insert into public.projects (id, user_id, name, content) values (%s, %s, %s, %s)",
        (project_id, user_id, f"test {project_id[:8]}", Jsonb(content)),
    )
    return Canvas(project_id, content)


def load_content(conn: Conn, project_id: str) -> dict[str, Any]:
    """Return a project's stored canvas."""
    row = conn.execute("select content from public.projects where id = %s", (project_id,)).fetchone()
    assert row is not None
    content: dict[str, Any] = row["content"]
    return content


def node_data(conn: Conn, project_id: str, node_id: str) -> dict[str, Any]:
    """Return one stored node's data."""
    for node in load_content(conn, project_id)["nodes"]:
        if node["id"] == node_id:
            data: dict[str, Any] = node["data"]
            return data
    raise AssertionError(f"node {node_id} not in project {project_id}")


def wait_for(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll until `check` returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def wait_for_node(
    conn: Conn, project_id: str, node_id: str, done: Callable[[dict[str, Any]], bool], timeout: float = 30.0
) -> dict[str, Any]:
    """Wait until a node's data satisfies `done`; return the data."""
    data: dict[str, Any] = wait_for(
        lambda: (d := node_data(conn, project_id, node_id)) and done(d) and d, timeout
    )
    return data


def job_row(conn: Conn, job_id: str) -> dict[str, Any]:
    row = conn.execute(
        "select *, status::text as status from public.generation_jobs where id = %s", (job_id,)
    ).fetchone()
    assert row is not None
    return dict(row)


class FalSimulator:
    """The admin side of the local fal queue."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.client = httpx.Client(base_url=settings.fal_url, timeout=30.0)

    def set_faults(self, faults: dict[str, Any]) -> None:
        self.client.put("/_sim/faults", json=faults).raise_for_status()

    def request(self, request_id: str) -> dict[str, Any]:
        response = self.client.get(f"/_sim/requests/{request_id}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def redeliver(self, request_id: str) -> None:
        self.client.post(f"/_sim/requests/{request_id}/deliver").raise_for_status()

    def signer(self) -> Signer:
        return load_signer(self.settings.path("falsim") / "webhook-signing-key.pem")

    def close(self) -> None:
        self.client.close()


def signed_headers(
    signer: Signer,
    request_id: str,
    body: bytes,
    timestamp: int | None = None,
    user_id: str = "canvasgen-local-user",
) -> dict[str, str]:
    """Sign a delivery as fal does."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "X-Fal-Webhook-Request-Id": request_id,
        "X-Fal-Webhook-User-Id": user_id,
        "X-Fal-Webhook-Timestamp": ts,
        "X-Fal-Webhook-Signature": signer.sign(request_id, user_id, ts, body),
    }


def dumps(body: dict[str, Any]) -> bytes:
    """Serialize as fal does (Python's default separators)."""
    return json.dumps(body).encode()
