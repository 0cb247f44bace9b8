"""The server's pure pieces: serializers, filters, binding ids, tokens and the `data` object."""

from __future__ import annotations

import json
import time

import jwt
import pytest

from canvasgen_stack.realtime.bindings import BindingError, binding, binding_id, echo, requested
from canvasgen_stack.realtime.changes import Change
from canvasgen_stack.realtime.filters import Filter, FilterError, parse
from canvasgen_stack.realtime.frames import FrameError, Message, serializer_for
from canvasgen_stack.realtime.payloads import change_data
from canvasgen_stack.realtime.rendering import Rendered
from canvasgen_stack.realtime.tokens import TokenError, verify

SECRET = "a-local-secret-of-at-least-thirty-two-characters"
COLUMNS = (("id", "uuid"), ("name", "text"), ("content", "jsonb"))


def rendered(action: str = "UPDATE", oversize: bool = False, **values: dict[str, str]) -> Rendered:
    change = Change("{}", action, "public", "projects", ("id",), ('"k"',))
    new = values.get("new", {"id": '"k"', "name": '"n"', "content": '{"nodes": []}'})
    return Rendered(
        change,
        "2026-12-04T12:00:00.123Z",
        oversize,
        True,
        new,
        values.get("old", {"id": '"k"'}),
        {},
        {"authenticated": COLUMNS, "anon": ()},
    )


def test_serializers_follow_the_vsn() -> None:
    """1.0.0 (also when absent) writes objects without join_ref; 2.0.0 writes five-element arrays."""
    message = Message("realtime:a", "phx_reply", {"status": "ok"}, "2", "1")
    v1, v2 = serializer_for(None), serializer_for("2.0.0")
    assert v1 is not None and v2 is not None and serializer_for("3.0.0") is None
    assert json.loads(v1.encode(message)) == {
        "topic": "realtime:a",
        "event": "phx_reply",
        "payload": {"status": "ok"},
        "ref": "2",
    }
    assert json.loads(v2.encode(message)) == ["1", "2", "realtime:a", "phx_reply", {"status": "ok"}]
    assert json.loads(v2.encode_change("realtime:a", "[7]", '{"x":1}')) == [
        None,
        None,
        "realtime:a",
        "postgres_changes",
        {"ids": [7], "data": {"x": 1}},
    ]
    assert json.loads(v1.encode_change("realtime:a", "[7]", "{}"))["ref"] is None
    assert v1.decode('{"topic":"t","event":"e","payload":null,"ref":null}') == Message("t", "e", {})


@pytest.mark.parametrize(
    "text", ["x", "[1,2,3,4,5]", '{"topic":1,"event":"e"}', '[null,{},"t","e",{}]', "{}"]
)
def test_frames_that_are_not_messages_are_rejected(text: str) -> None:
    """Garbage raises FrameError rather than anything else."""
    for vsn in ("1.0.0", "2.0.0"):
        serializer = serializer_for(vsn)
        assert serializer is not None
        with pytest.raises(FrameError):
            serializer.decode(text)


def test_filters_parse_like_supabase() -> None:
    """`column=op.value`, `in.(a,"b,c")`; other operators are errors in Supabase's words."""
    assert parse(None) is None and parse("") is None
    assert parse("id=eq.a.b=c") == Filter("id", "eq", ("a.b=c",))
    assert parse('name=in.(a,"b,c",)') == Filter("name", "in", ("a", "b,c", ""))
    for bad in ("id", "id=eq", "id=like.x", "id=in.1", "id=in.()"):
        with pytest.raises(FilterError, match="Error parsing `filter` params"):
            parse(bad)


def test_binding_ids_are_stable_nonzero_and_distinct() -> None:
    """The same params give the same id; different params differ; ids fit Supabase's range and are never 0."""
    first = {"event": "UPDATE", "schema": "public", "table": "projects", "filter": "id=eq.1"}
    ids = [binding_id({**first, "filter": f"id=eq.{n}"}) for n in range(2000)]
    assert binding_id(dict(reversed(first.items()))) == binding_id(first) == ids[1]
    assert len(set(ids)) == len(ids) and all(0 < i < 2**27 for i in ids)
    payload = {"config": {"postgres_changes": [first, None, "x"]}}
    assert echo(requested(payload)) == [{**first, "id": ids[1]}]
    assert binding({"event": "*"}).schema == "public" and binding({"event": "*", "table": "*"}).table is None
    with pytest.raises(BindingError, match="Unable to subscribe"):
        binding({"event": "TRUNCATE"})


def test_tokens_need_signature_role_and_exp() -> None:
    """Valid tokens give claims; others raise Supabase's messages."""
    now = int(time.time())
    good = jwt.encode({"role": "authenticated", "exp": now + 60, "sub": "u"}, SECRET)
    assert verify(good, SECRET).role == "authenticated"
    cases = {
        jwt.encode({"role": "anon", "exp": now - 5}, SECRET): "Token has expired 5 seconds ago",
        jwt.encode({"exp": now + 60}, SECRET): "Fields `role` and `exp` are required in JWT",
        jwt.encode(
            {"role": "anon", "exp": now + 60}, "another-secret-of-at-least-32-chars!"
        ): "Failed to validate",
        "not.a.jwt": "The token provided is not a valid JWT",
    }
    for token, message in cases.items():
        with pytest.raises(TokenError, match=message):
            verify(token, SECRET, now=now)


def test_data_object_follows_supabase() -> None:
    """Columns, record, old_record and errors as Supabase sends them, per role."""
    data = json.loads(change_data(rendered(), "authenticated", None))
    assert data == {
        "schema": "public",
        "table": "projects",
        "type": "UPDATE",
        "commit_timestamp": "2026-12-04T12:00:00.123Z",
        "errors": None,
        "columns": [{"name": n, "type": t} for n, t in COLUMNS],
        "record": {"id": "k", "name": "n", "content": {"nodes": []}},
        "old_record": {"id": "k"},
    }
    assert json.loads(change_data(rendered(), "anon", None)) == {
        "schema": "public",
        "table": "projects",
        "type": "UPDATE",
        "errors": ["Error 401: Unauthorized"],
    }
    selected = json.loads(change_data(rendered(), "authenticated", frozenset({"name"})))
    assert selected["record"] == {"id": "k", "name": "n"} and len(selected["columns"]) == 2


def test_oversized_changes_keep_values_of_64_bytes_or_less() -> None:
    """Over the limit, only values whose JSON text is at most 64 bytes stay, and `errors` says 413."""
    values = {"id": '"k"', "name": json.dumps("x" * 62), "content": json.dumps("y" * 63)}
    data = json.loads(change_data(rendered(oversize=True, new=values), "authenticated", None))
    assert data["errors"] == ["Error 413: Payload Too Large"] and data["record"] == {
        "id": "k",
        "name": "x" * 62,
    }


def test_unchanged_values_come_from_the_old_row_and_deletes_show_the_key() -> None:
    """A value the decoder left out is taken from the old row; a DELETE under RLS shows the key only."""
    full_old = {"id": '"k"', "name": '"n"', "content": '{"old": 1}'}
    data = json.loads(
        change_data(rendered(new={"id": '"k"', "name": '"m"'}, old=full_old), "authenticated", None)
    )
    assert data["record"] == {"id": "k", "name": "m", "content": {"old": 1}}
    deleted = json.loads(change_data(rendered("DELETE", new={}, old=full_old), "authenticated", None))
    assert deleted["old_record"] == {"id": "k"} and "record" not in deleted
