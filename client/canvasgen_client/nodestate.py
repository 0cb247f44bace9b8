"""Node state as the canvas derives it, and the events a watcher reports when it changes.

The rules are the canvas's own: a node is loading when `data.loading` is true or `data.status` is
"pending"; it completed when it was loading and `generated.url` is now set and differs from before;
it failed when `status` is "failed". A watcher sees each canvas as a whole (from Realtime or a refetch)
and turns the differences into events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NodeLoading:
    node_id: str
    status: str | None
    request_id: str | None
    queue_position: int | None


@dataclass(frozen=True)
class NodeCompleted:
    node_id: str
    url: str
    media_type: str | None


@dataclass(frozen=True)
class NodeFailed:
    node_id: str
    code: str | None
    message: str


@dataclass(frozen=True)
class NodeChanged:
    node_id: str
    data: dict[str, Any]


NodeEvent = NodeLoading | NodeCompleted | NodeFailed | NodeChanged


def is_loading(data: dict[str, Any]) -> bool:
    """Tell whether the canvas shows a spinner for this node."""
    return data.get("loading") is True or data.get("status") == "pending"


def generated_url(data: dict[str, Any]) -> str | None:
    """Return the node's generated media URL, if any."""
    generated = data.get("generated")
    url = generated.get("url") if isinstance(generated, dict) else None
    return url if isinstance(url, str) and url else None


class NodeTracker:
    """Remember each node's last data and report what changed."""

    def __init__(self) -> None:
        self._nodes: dict[str, dict[str, Any]] = {}

    def expect_loading(self, node_id: str) -> None:
        """Treat a node as loading before its state is seen (a generation was just submitted)."""
        self._nodes.setdefault(node_id, {"loading": True})

    def update(self, content: dict[str, Any]) -> list[NodeEvent]:
        """Take a whole canvas and return the events of its changed nodes."""
        events: list[NodeEvent] = []
        for node in content.get("nodes", []):
            if not isinstance(node, dict) or not isinstance(node.get("id"), str):
                continue
            data = node.get("data") if isinstance(node.get("data"), dict) else {}
            assert isinstance(data, dict)
            event = _event(node["id"], self._nodes.get(node["id"]), data)
            self._nodes[node["id"]] = data
            if event is not None:
                events.append(event)
        return events


def _event(node_id: str, before: dict[str, Any] | None, data: dict[str, Any]) -> NodeEvent | None:
    was_loading = before is not None and is_loading(before)
    if is_loading(data):
        if was_loading and before == data:
            return None
        position = data.get("queuePosition")
        return NodeLoading(
            node_id,
            data.get("status"),
            data.get("requestId"),
            position if isinstance(position, int) else None,
        )
    url = generated_url(data)
    if was_loading and url and url != generated_url(before or {}):
        media_type = data["generated"].get("type")
        return NodeCompleted(node_id, url, media_type if isinstance(media_type, str) else None)
    if data.get("status") == "failed" and (
        was_loading or (before is not None and before.get("status") != "failed")
    ):
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        assert isinstance(error, dict)
        return NodeFailed(node_id, error.get("code"), str(error.get("message") or "the generation failed"))
    if before is not None and before != data:
        return NodeChanged(node_id, data)
    return None
