"""The `data` object of a `postgres_changes` message, assembled from rendered JSON values.

Per role (and per `select` list) the columns it may SELECT are shown, as Supabase shows them:
`columns` from the catalogue in attnum order, `record` for INSERT/UPDATE (unchanged out-of-line
values filled from the old row when the old row has them), `old_record` for UPDATE/DELETE (only
the key on a DELETE from a table with row level security), `{}` rather than null. A change whose
decoded record exceeds the size limit keeps only values of at most 64 bytes and says
`Error 413: Payload Too Large`. A role that may not see the primary key gets only `Error 401`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from canvasgen_stack.realtime.rendering import Rendered

SMALL_VALUE_BYTES = 64
TOO_LARGE = "Error 413: Payload Too Large"
NO_PRIMARY_KEY = "Error 400: Bad Request, no primary key"
UNAUTHORIZED = "Error 401: Unauthorized"


def refusal(rendered: Rendered, role: str) -> str | None:
    """Return the error a role gets instead of the row (no primary key, or a key it may not see)."""
    change = rendered.change
    if change.action == "DELETE":
        return None
    if not change.primary_key:
        return NO_PRIMARY_KEY
    selectable = {name for name, _ in rendered.columns.get(role, ())}
    return None if selectable.issuperset(change.primary_key) else UNAUTHORIZED


def refused(rendered: Rendered, role: str) -> bool:
    """Tell whether a role gets only an error for this change, whatever its filters and policies say."""
    return refusal(rendered, role) is not None


def change_data(rendered: Rendered, role: str, select: frozenset[str] | None) -> str:
    """Return the JSON text of `data` as one role with an optional `select` list receives it."""
    change = rendered.change
    head = {
        "schema": json.dumps(change.schema),
        "table": json.dumps(change.table),
        "type": json.dumps(change.action),
    }
    error = refusal(rendered, role)
    if error is not None:
        return _object({**head, "errors": json.dumps([error])})
    columns = rendered.columns.get(role, ())
    selectable = {name for name, _ in columns}
    shown = {name for name in selectable if select is None or name in select or name in change.primary_key}
    parts = {
        **head,
        "columns": json.dumps([{"name": name, "type": kind} for name, kind in columns if name in shown]),
        "commit_timestamp": json.dumps(rendered.commit_timestamp),
        "errors": json.dumps([TOO_LARGE]) if rendered.oversize else "null",
    }
    if change.action in ("INSERT", "UPDATE"):
        parts["record"] = _object(_record(rendered, shown))
    if change.action == "UPDATE":
        parts["old_record"] = _object(_kept(rendered.old_values.items(), shown, rendered.oversize))
    if change.action == "DELETE":
        if rendered.rls_enabled:
            # A deleted row cannot be checked against policies any more, so only its key is told.
            shown &= set(change.primary_key)
        parts["old_record"] = _object(_kept(rendered.old_values.items(), shown, rendered.oversize))
    return _object(parts)


def _record(rendered: Rendered, shown: set[str]) -> dict[str, str]:
    record = _kept(rendered.new_values.items(), shown, rendered.oversize)
    if not rendered.oversize:
        # Values the decoder left out because they did not change come from the old row, if it has them.
        missing = rendered.old_values.keys() - rendered.new_values.keys()
        record.update(_kept(((name, rendered.old_values[name]) for name in missing), shown, False))
    return record


def _kept(values: Iterable[tuple[str, str]], shown: set[str], small_only: bool) -> dict[str, str]:
    return {
        name: text
        for name, text in values
        if name in shown and (not small_only or len(text.encode()) <= SMALL_VALUE_BYTES)
    }


def _object(members: dict[str, str]) -> str:
    """Write a JSON object from member texts, keys in jsonb's order (shorter first, then bytewise)."""
    ordered = sorted(members.items(), key=lambda item: (len(item[0].encode()), item[0].encode()))
    return "{" + ",".join(f"{json.dumps(name)}:{text}" for name, text in ordered) + "}"
