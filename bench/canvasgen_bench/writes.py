"""The three ways of writing one node's state change that benchmark 1 compares.

`node_patch` is ours (the SQL function the functions call). `read_modify_write` is what the apps we
replace do through supabase-js: select the whole `content`, edit it in the client, write it all back,
as two separate statements. `floor` is the least any write of the same change can cost: one UPDATE
that sets a single top-level key of the same document with `jsonb_set`, with no search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from canvasgen import nodes

Conn = psycopg.Connection[Any]
Write = Callable[[Conn, str, str, str], None]


def change(mark: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Return the keys a completed generation sets and removes, tagged with `mark`."""
    keys, remove = nodes.completed_state(f"https://media.example.com/{mark}.mp4", "video/mp4")
    return {**keys, "benchMark": mark}, remove


def node_patch(conn: Conn, project_id: str, node_id: str, mark: str) -> None:
    """Write the change with `patch_node_data`, as the functions do."""
    keys, remove = change(mark)
    conn.execute(
        "select public.patch_node_data(%s, %s, %s, %s)", (project_id, node_id, Jsonb(keys), list(remove))
    )


def read_modify_write(conn: Conn, project_id: str, node_id: str, mark: str) -> None:
    """Write the change by reading the whole canvas, editing it here and writing it all back."""
    row = conn.execute("select content from public.projects where id = %s", (project_id,)).fetchone()
    assert row is not None
    document: dict[str, Any] = row[0]
    keys, remove = change(mark)
    for item in document["nodes"]:
        if item["id"] == node_id:
            data = {key: value for key, value in item["data"].items() if key not in remove}
            item["data"] = {**data, **keys}
            break
    conn.execute("update public.projects set content = %s where id = %s", (Jsonb(document), project_id))


def floor(conn: Conn, project_id: str, node_id: str, mark: str) -> None:
    """Write the same keys under one top-level key of the document: no search, one `jsonb_set`."""
    keys, _ = change(mark)
    conn.execute(
        "update public.projects set content = jsonb_set(content, array[%s], %s) where id = %s",
        (f"bench_{node_id}", Jsonb(keys), project_id),
    )


WRITES: dict[str, Write] = {
    "node patch": node_patch,
    "read-modify-write": read_modify_write,
    "floor": floor,
}


def marks_kept(document: dict[str, Any], expected: dict[str, str]) -> int:
    """Count the nodes (or floor keys) that still carry the mark their writer wrote."""
    kept = 0
    by_id = {item["id"]: item for item in document["nodes"]}
    for node_id, mark in expected.items():
        found = document.get(f"bench_{node_id}") or by_id[node_id]["data"]
        kept += found.get("benchMark") == mark
    return kept
