"""Saving a client's copy of a whole canvas without ever undoing what the server wrote.

Clients autosave their edits (positions, prompts, new nodes, edges, viewport) as whole documents. The
server owns each node's generation keys (`nodes.SERVER_OWNED_KEYS`): for every node that still exists
the stored values are kept, whatever the client sent.

Stale copies: every write bumps `version`; a save also records it as `edited_version`. A save based on
version B is applied when B >= edited_version, i.e. when everything written since B was a server-owned
node patch (the merge above keeps those); otherwise another client saved edits the caller has not seen,
and the save answers 409 `version_conflict` with the current canvas instead of overwriting them.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from canvasgen import jobs, logs, nodes, projects
from canvasgen.auth import Caller
from canvasgen.cancellation import cancel_removed
from canvasgen.database import Connection
from canvasgen.errors import Conflict, InvalidRequest, PayloadTooLarge
from canvasgen.jobs import Job
from canvasgen.models import SaveAnswer, SaveRequest
from canvasgen.services import Services

log = logs.get_logger("canvases")
# A node new to the server may carry a copied result, but never a generation in flight.
IN_FLIGHT_KEYS = ("loading", "status", "requestId", "error", "queuePosition")


def save(services: Services, caller: Caller, request: SaveRequest) -> SaveAnswer:
    """Save the canvas, keeping the server's generation state; cancel jobs of deleted nodes."""
    assert caller.user_id is not None
    logs.bind(projectId=str(request.project_id))
    validate(request.content, services.settings.max_canvas_nodes, services.settings.max_canvas_bytes)
    with services.database.transaction() as conn:
        stored = projects.get_owned(conn, request.project_id, caller.user_id, lock=True)
        if not stored.edited_version <= request.base_version <= stored.version:
            msg = "the canvas changed since this copy was loaded"
            current = {"version": stored.version, "content": stored.content}
            raise Conflict(msg, code="version_conflict", extra={"current": current})
        content, removed_ids = merge(stored.content, request.content)
        removed = _cancel_jobs_of(conn, request.project_id, removed_ids)
        row = conn.execute(
            "update public.projects set content = %s, edited_version = version + 1 where id = %s"
            " returning version, updated_at",
            (Jsonb(content), request.project_id),
        ).fetchone()
    assert row is not None
    log.info(
        "canvas saved",
        extra={"version": row["version"], "baseVersion": request.base_version, "cancelledJobs": len(removed)},
    )
    cancel_removed(services, removed)
    return SaveAnswer(version=row["version"], updated_at=row["updated_at"].isoformat(), content=content)


def _cancel_jobs_of(conn: Connection, project_id: UUID, node_ids: list[str]) -> list[Job]:
    if not node_ids:
        return []
    live = jobs.live_for_nodes(conn, project_id, node_ids)
    for job in live:
        jobs.finish(
            conn, job.id, "cancelled", error={"code": "node_deleted", "message": "the node was deleted"}
        )
    return live


def merge(stored: dict[str, Any], incoming: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return the client's canvas with the stored server-owned keys, and the ids of deleted nodes."""
    stored_nodes = {n["id"]: n for n in stored.get("nodes", []) if isinstance(n, dict)}
    merged_nodes = []
    for node in incoming["nodes"]:
        data = dict(node.get("data") or {})
        if node["id"] in stored_nodes:
            kept = stored_nodes[node["id"]].get("data") or {}
            data = {k: v for k, v in data.items() if k not in nodes.SERVER_OWNED_KEYS}
            data.update({k: kept[k] for k in nodes.SERVER_OWNED_KEYS if k in kept})
        else:
            data = {k: v for k, v in data.items() if k not in IN_FLIGHT_KEYS}
        merged_nodes.append({**node, "data": data})
    incoming_ids = {n["id"] for n in incoming["nodes"]}
    removed = [node_id for node_id in stored_nodes if node_id not in incoming_ids]
    return {**incoming, "nodes": merged_nodes}, removed


def validate(content: dict[str, Any], max_nodes: int, max_bytes: int) -> None:
    """Refuse a canvas that is not `{nodes, edges, viewport?}` with unique node ids and edges between them."""
    if len(json.dumps(content)) > max_bytes:
        msg = f"the canvas is larger than {max_bytes} bytes"
        raise PayloadTooLarge(msg)
    problems: list[dict[str, str]] = []
    node_list, edge_list = content.get("nodes"), content.get("edges", [])
    if not isinstance(node_list, list):
        problems.append({"field": "content.nodes", "message": "must be a list of nodes"})
        node_list = []
    if len(node_list) > max_nodes:
        problems.append({"field": "content.nodes", "message": f"at most {max_nodes} nodes"})
    ids = _node_ids(node_list, problems)
    if not isinstance(edge_list, list):
        problems.append({"field": "content.edges", "message": "must be a list of edges"})
        edge_list = []
    _check_edges(edge_list, ids, problems)
    if "viewport" in content and not isinstance(content["viewport"], dict):
        problems.append({"field": "content.viewport", "message": "must be an object"})
    if problems:
        msg = "the canvas is not valid"
        raise InvalidRequest(msg, code="validation_failed", details=problems[:50])


def _node_ids(node_list: list[Any], problems: list[dict[str, str]]) -> set[str]:
    ids: set[str] = set()
    for index, node in enumerate(node_list):
        field = f"content.nodes.{index}"
        if not isinstance(node, dict) or not isinstance(node.get("id"), str) or not node["id"]:
            problems.append({"field": field, "message": "must be an object with a string id"})
            continue
        if node["id"] in ids:
            problems.append({"field": f"{field}.id", "message": f"duplicate node id {node['id']!r}"})
        if "data" in node and not isinstance(node["data"], dict):
            problems.append({"field": f"{field}.data", "message": "must be an object"})
        ids.add(node["id"])
    return ids


def _check_edges(edge_list: list[Any], ids: set[str], problems: list[dict[str, str]]) -> None:
    for index, edge in enumerate(edge_list):
        field = f"content.edges.{index}"
        if not isinstance(edge, dict):
            problems.append({"field": field, "message": "must be an object"})
            continue
        for end in ("source", "target"):
            if edge.get(end) not in ids:
                problems.append({"field": f"{field}.{end}", "message": "must name a node of the canvas"})
