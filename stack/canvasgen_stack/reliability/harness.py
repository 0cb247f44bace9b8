"""What the scenarios drive: one user's projects, the functions, the fal simulator's switches, the clock."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Jsonb

from canvasgen_stack.config import StackSettings

DEMO_USER = ("a11ce000-0000-4000-8000-000000000001", "alice@example.com")
VIDEO_MODEL = "kling-v2.5-turbo-pro"


@dataclass
class Tally:
    """What one run of a scenario lost."""

    nodes: int = 0
    stuck: int = 0
    lost: int = 0
    edits: int = 0
    edits_lost: int = 0
    notes: list[str] = field(default_factory=list)


class Harness:
    """A scenario's handle on the running stack."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.token = settings.user_token(*DEMO_USER, lifetime_seconds=3600)
        self.api = httpx.Client(
            base_url=settings.functions_url, timeout=120.0, headers={"Authorization": f"Bearer {self.token}"}
        )
        self.fal = httpx.Client(base_url=settings.fal_url, timeout=30.0)
        self.db: psycopg.Connection[DictRow] = psycopg.connect(
            settings.database_url, autocommit=True, row_factory=dict_row
        )

    def close(self) -> None:
        """Release the connections."""
        self.api.close()
        self.fal.close()
        self.db.close()

    def reconnect_db(self) -> None:
        """Open a new database connection (after the server restarted)."""
        self.db.close()
        self.db = psycopg.connect(self.settings.database_url, autocommit=True, row_factory=dict_row)

    def canvas(self, videos: int) -> tuple[str, list[str]]:
        """Create a project of the demo user with `videos` video nodes; return its id and the node ids."""
        project_id = str(uuid.uuid4())
        node_ids = [f"video-{index}" for index in range(1, videos + 1)]
        nodes = [
            {"id": n, "type": "video", "position": {"x": 0, "y": 0}, "data": {"instructions": n}}
            for n in node_ids
        ]
        self.db.execute(
            "insert into public.projects (id, user_id, name, content) values (%s, %s, %s, %s)",
            (
                project_id,
                DEMO_USER[0],
                "fault scenario",
                Jsonb({"nodes": nodes, "edges": [], "viewport": {}}),
            ),
        )
        return project_id, node_ids

    def submit(self, project_id: str, node_id: str, prompt: str = "scenario") -> httpx.Response:
        """Call submit for one node."""
        return self.api.post(
            "/submit",
            json={"projectId": project_id, "nodeId": node_id, "model": VIDEO_MODEL, "prompt": prompt},
        )

    def content(self, project_id: str) -> dict[str, Any]:
        """Return a project's stored canvas and version."""
        row = self.db.execute("select content, version from public.projects where id = %s", (project_id,))
        found = row.fetchone()
        assert found is not None
        return {"content": found["content"], "version": found["version"]}

    def nodes(self, project_id: str) -> dict[str, dict[str, Any]]:
        """Return each node's data by id."""
        return {n["id"]: n.get("data", {}) for n in self.content(project_id)["content"]["nodes"]}

    def scalar(self, query: str, params: tuple[Any, ...]) -> Any:
        """Return the first column of the first row of a query."""
        row = self.db.execute(query, params).fetchone()
        return next(iter(row.values())) if row else None

    def reconcile(self) -> dict[str, Any]:
        """Run one reconciliation round as the scheduler does."""
        headers = {"Authorization": f"Bearer {self.settings.service_role_key}"}
        response = self.api.post("/reconcile", headers=headers)
        response.raise_for_status()
        report: dict[str, Any] = response.json()
        return report

    def age_jobs(self, project_id: str, seconds: float) -> None:
        """Move a project's live jobs back in time, so reconciliation treats them as old."""
        self.db.execute(
            "update public.generation_jobs set created_at = created_at - make_interval(secs => %s),"
            " checked_at = null where project_id = %s and status in ('submitting', 'pending')",
            (seconds, project_id),
        )

    def provider_states(self, request_ids: list[str]) -> list[str]:
        """Return the simulator's state of each request."""
        return [self.fal.get(f"/_sim/requests/{r}").json()["state"] for r in request_ids]

    def set_faults(self, faults: dict[str, Any]) -> None:
        """Switch the simulator's global faults."""
        self.fal.put("/_sim/faults", json=faults).raise_for_status()


def wait_until(check: Callable[[], Any], timeout: float, interval: float = 0.2) -> bool:
    """Poll until `check` is truthy or the timeout passes; return whether it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except (httpx.HTTPError, psycopg.OperationalError):
            pass
        time.sleep(interval)
    return False


def is_loading(data: dict[str, Any]) -> bool:
    """Tell whether the canvas shows a spinner for this node."""
    return data.get("loading") is True or data.get("status") == "pending"


def settle(h: Harness, project_id: str, timeout: float) -> dict[str, dict[str, Any]]:
    """Wait until no node of the project is loading (or the timeout passes); return the nodes."""
    wait_until(lambda: not any(is_loading(d) for d in h.nodes(project_id).values()), timeout)
    return h.nodes(project_id)


def count(
    tally: Tally,
    nodes: dict[str, dict[str, Any]],
    expect_completed: list[str],
    expect_failed: tuple[str, ...] = (),
) -> Tally:
    """Add a project's nodes to the tally: stuck when loading, lost when the expected outcome is missing."""
    for node_id in expect_completed:
        data = nodes.get(node_id, {})
        tally.nodes += 1
        tally.stuck += is_loading(data)
        tally.lost += not is_loading(data) and "generated" not in data
    for node_id in expect_failed:
        data = nodes.get(node_id, {})
        tally.nodes += 1
        tally.stuck += is_loading(data)
        tally.lost += not is_loading(data) and data.get("status") != "failed"
    return tally
