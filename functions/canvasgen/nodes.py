"""Canvas nodes and their generation state.

A node's `data` carries the state of its generation; the server owns these keys:

    (idle) ──submit──▶ pending ──webhook OK──▶ completed
                         │  {loading: true,     {generated: {url, type}, loading: false,
                         │   status: "pending",  no status, no requestId}
                         │   requestId}
                         ├──webhook ERROR / provider refused──▶ failed
                         │                         {status: "failed", loading: false, error: {code, message}}
                         └──cancel──▶ cancelled    {status: "cancelled", loading: false}

While queued at the provider, a pending node may also carry `queuePosition` (removed when it ends).

Every state change is one call of the SQL function `patch_node_data`, which merges keys into one
node's `data` atomically, so concurrent writers never undo each other.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from canvasgen.database import Connection

SERVER_OWNED_KEYS = ("loading", "status", "requestId", "generated", "error", "updatedAt", "queuePosition")


def now_iso() -> str:
    """Return the current time as ISO 8601 with milliseconds, as JavaScript's `toISOString`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def patch(
    conn: Connection, project_id: UUID, node_id: str, set_keys: dict[str, Any], remove: tuple[str, ...] = ()
) -> bool:
    """Merge keys into one node's data and drop others; return False when the node does not exist."""
    row = conn.execute(
        "select public.patch_node_data(%s, %s, %s, %s) as found",
        (project_id, node_id, Jsonb(set_keys), list(remove)),
    ).fetchone()
    return bool(row and row["found"])


def pending_state() -> dict[str, Any]:
    """Return the keys of a node whose generation was just started."""
    return {"loading": True, "status": "pending", "updatedAt": now_iso()}


def completed_state(url: str, media_type: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Return the keys to set and to drop when a generation completed."""
    keys = {"generated": {"url": url, "type": media_type}, "loading": False, "updatedAt": now_iso()}
    return keys, ("status", "requestId", "error", "queuePosition")


def failed_state(code: str, message: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Return the keys to set and to drop when a generation failed; an earlier result stays."""
    keys = {
        "status": "failed",
        "loading": False,
        "error": {"code": code, "message": message},
        "updatedAt": now_iso(),
    }
    return keys, ("requestId", "queuePosition")


def cancelled_state() -> tuple[dict[str, Any], tuple[str, ...]]:
    """Return the keys to set and to drop when a generation was cancelled."""
    return {"status": "cancelled", "loading": False, "updatedAt": now_iso()}, ("requestId", "queuePosition")


def find(content: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    """Return the node with this id from a canvas document."""
    for node in content.get("nodes", []):
        if isinstance(node, dict) and node.get("id") == node_id:
            return node
    return None
