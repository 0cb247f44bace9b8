"""nodestate: the canvas's own rules for loading, completed and failed."""

from __future__ import annotations

from typing import Any

from canvasgen_client.nodestate import NodeChanged, NodeCompleted, NodeFailed, NodeLoading, NodeTracker


def canvas(**nodes: dict[str, Any]) -> dict[str, Any]:
    return {"nodes": [{"id": node_id, "data": data} for node_id, data in nodes.items()]}


def test_loading_is_loading_flag_or_pending_status() -> None:
    """A node is loading when loading is true or status is pending."""
    events = NodeTracker().update(canvas(a={"loading": True}, b={"status": "pending"}, c={"loading": False}))
    assert events == [NodeLoading("a", None, None, None), NodeLoading("b", "pending", None, None)]


def test_completion_needs_a_new_url_after_loading() -> None:
    """Completed fires when a loading node gets a different generated URL, once."""
    tracker = NodeTracker()
    tracker.update(canvas(a={"generated": {"url": "old"}}))
    tracker.update(canvas(a={"loading": True, "generated": {"url": "old"}}))
    assert tracker.update(canvas(a={"loading": False, "generated": {"url": "old"}})) == [
        NodeChanged("a", {"loading": False, "generated": {"url": "old"}})
    ]
    tracker.update(canvas(a={"loading": True, "generated": {"url": "old"}}))
    done = {"loading": False, "generated": {"url": "new", "type": "video/mp4"}}
    assert tracker.update(canvas(a=done)) == [NodeCompleted("a", "new", "video/mp4")]
    assert tracker.update(canvas(a=done)) == []


def test_history_is_not_reported_as_news() -> None:
    """A first look at completed or failed nodes reports nothing; only loading nodes show."""
    events = NodeTracker().update(canvas(a={"generated": {"url": "u"}}, b={"status": "failed", "error": {}}))
    assert events == []


def test_failure_after_loading() -> None:
    """A loading node that turns failed reports the error."""
    tracker = NodeTracker()
    tracker.expect_loading("a")
    events = tracker.update(
        canvas(
            a={
                "status": "failed",
                "loading": False,
                "error": {"code": "generation_failed", "message": "bad prompt"},
            }
        )
    )
    assert events == [NodeFailed("a", "generation_failed", "bad prompt")]


def test_expected_loading_catches_a_completion_seen_first() -> None:
    """After a submit, a first look that is already completed still reports the completion."""
    tracker = NodeTracker()
    tracker.expect_loading("a")
    assert tracker.update(canvas(a={"generated": {"url": "u", "type": "image/png"}})) == [
        NodeCompleted("a", "u", "image/png")
    ]


def test_queue_position_changes_are_loading_events() -> None:
    """A moving queue position is reported as a new loading event."""
    tracker = NodeTracker()
    tracker.update(canvas(a={"loading": True, "queuePosition": 3}))
    assert tracker.update(canvas(a={"loading": True, "queuePosition": 1})) == [
        NodeLoading("a", None, None, 1)
    ]
