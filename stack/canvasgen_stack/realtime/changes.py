"""Committed row changes, read from wal2json format-version 2 records.

The decoder emits each transaction as `B`, its changes, `C`, in commit order; `B` and `C` carry the
commit LSN. `I`/`U`/`D` carry `columns` (the new row, without unchanged out-of-line values),
`identity` (the old key, or the whole old row under REPLICA IDENTITY FULL) and `pk`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

ACTIONS = {"I": "INSERT", "U": "UPDATE", "D": "DELETE"}
BYTEA_OID = 17  # pg_type.oid of bytea, fixed in every PostgreSQL


@dataclass(frozen=True)
class Change:
    """One committed INSERT, UPDATE or DELETE."""

    wal: str
    action: str
    schema: str
    table: str
    primary_key: tuple[str, ...]
    key_values: tuple[str | None, ...]
    verbatim: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def relation(self) -> sql.Identifier:
        """Return the table as a quoted SQL name."""
        return sql.Identifier(self.schema, self.table)

    @property
    def row_part(self) -> str:
        """Return the wal2json part that holds the row filters look at."""
        return "identity" if self.action == "DELETE" else "columns"


def parse(line: str) -> dict[str, Any]:
    """Parse one wal2json record."""
    record = json.loads(line)
    if not isinstance(record, dict):
        msg = "a wal2json record is a JSON object"
        raise ValueError(msg)
    return record


def from_record(record: dict[str, Any], line: str) -> Change | None:
    """Return the change a record describes, or None for transaction, truncate and message records."""
    action = ACTIONS.get(str(record.get("action")))
    if action is None:
        return None
    part = "identity" if action == "DELETE" else "columns"
    values = {entry["name"]: entry for entry in record.get(part) or []}
    primary_key = tuple(entry["name"] for entry in record.get("pk") or [])
    return Change(
        wal=line,
        action=action,
        schema=record["schema"],
        table=record["table"],
        primary_key=primary_key,
        key_values=tuple(text_of(values[name]) if name in values else None for name in primary_key),
        verbatim=_bytea_values(record),
    )


def text_of(entry: dict[str, Any]) -> str | None:
    """Return a wal2json value as the text Postgres printed for it."""
    value = entry.get("value")
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _bytea_values(record: dict[str, Any]) -> dict[tuple[str, str], str]:
    # Supabase hands bytea on as the decoder's text instead of casting it, so keep that text.
    found: dict[tuple[str, str], str] = {}
    for part in ("columns", "identity"):
        for entry in record.get(part) or []:
            if entry.get("typeoid") == BYTEA_OID and entry.get("value") is not None:
                found[(part, entry["name"])] = json.dumps(entry["value"])
    return found
