"""The `postgres_changes` bindings of a channel join, their ids, and what each one asks for.

Supabase echoes each binding back verbatim with `id = :erlang.phash2(params)`: an integer below
2**27, the same for the same params. Both clients match a change to a binding by that id and
treat 0 as "no id", so ids here are a hash of the params' canonical JSON in 1..2**27-1.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from canvasgen_stack.realtime.filters import Filter, FilterError, parse

EVENTS = ("*", "INSERT", "UPDATE", "DELETE")
ID_RANGE = 2**27 - 1


class BindingError(ValueError):
    """A binding the server cannot subscribe to; the message is the `system` error text."""


@dataclass(frozen=True)
class Binding:
    """What one binding subscribes to: an event on one table (or every table) of a schema."""

    id: int
    event: str
    schema: str
    table: str | None
    filter: Filter | None
    select: frozenset[str] | None

    def wants(self, action: str) -> bool:
        """Tell whether this binding's event covers an INSERT, UPDATE or DELETE."""
        return self.event in ("*", action)


@dataclass(frozen=True)
class Subscription:
    """A binding resolved against the publication: the tables it covers."""

    binding: Binding
    tables: frozenset[tuple[str, str]]

    def covers(self, schema: str, table: str, action: str) -> bool:
        """Tell whether a change of `action` on `schema.table` is for this binding."""
        return (schema, table) in self.tables and self.binding.wants(action)


def requested(payload: Any) -> list[dict[str, Any]]:
    """Return the join payload's `config.postgres_changes` entries, as sent."""
    config = payload.get("config") if isinstance(payload, dict) else None
    entries = config.get("postgres_changes") if isinstance(config, dict) else None
    if not isinstance(entries, list):
        return []
    return [entry for entry in entries if isinstance(entry, dict)]


def binding_id(params: dict[str, Any]) -> int:
    """Return the stable, non-zero id of one binding's params."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(canonical.encode()).digest()
    return int.from_bytes(digest[:8], "big") % ID_RANGE + 1


def echo(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the join reply's `postgres_changes`: each entry as sent, plus its id."""
    return [{**params, "id": binding_id(params)} for params in entries]


def binding(params: dict[str, Any]) -> Binding:
    """Read one binding or raise `BindingError` with the message Supabase would send."""
    event = params.get("event")
    schema = params.get("schema") or "public"
    table = params.get("table")
    select = params.get("select")
    if not isinstance(event, str) or event.upper() not in EVENTS:
        raise BindingError(unable(params))
    if not isinstance(schema, str) or (table is not None and not isinstance(table, str)):
        raise BindingError(unable(params))
    if select is not None and not (isinstance(select, list) and all(isinstance(c, str) for c in select)):
        raise BindingError(unable(params))
    try:
        parsed = parse(params.get("filter") if isinstance(params.get("filter"), str) else None)
    except FilterError as exc:
        raise BindingError(str(exc)) from exc
    return Binding(
        id=binding_id(params),
        event=event.upper(),
        schema=schema,
        table=None if table in (None, "*") else table,
        filter=parsed,
        select=None if select is None else frozenset(select),
    )


def unable(params: dict[str, Any]) -> str:
    """Return Supabase's text for a binding it cannot subscribe to."""
    shown = ", ".join(f"{key}: {params.get(key)}" for key in ("event", "schema", "table", "filter"))
    return (
        "Unable to subscribe to changes with given parameters. "
        f"Please check Realtime is enabled for the given connect parameters: [{shown}]"
    )
