"""Render a change the way Supabase does: every value as `to_jsonb` of the table's own type.

The decoder's text values are fed back through `jsonb_populate_record(null::<table>, ...)`, which
runs each column type's input function, and `to_jsonb` of that row gives what Postgres renders
(jsonb as nested JSON, timestamps in ISO form, numbers as written). Values stay JSON text all the
way to the socket, so a numeric `1.50` is never turned into a float. The same query evaluates the
subscribers' filters on the typed row and says whether the table has row level security.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow

from canvasgen_stack.realtime.changes import Change
from canvasgen_stack.realtime.filters import Filter

MAX_RECORD_BYTES = 1024 * 1024

_ROWS = """
with wal as (select {wal}::jsonb as w),
parts as (
  select p.part, (
    select jsonb_object_agg(
      x ->> 'name',
      -- json and jsonb (and domains over them) arrive as text; parse them so the row holds the
      -- document, not a string
      case when coalesce(
          (select nullif(t.typbasetype, 0) from pg_type as t where t.oid = (x ->> 'typeoid')::oid),
          (x ->> 'typeoid')::oid) in ('json'::regtype, 'jsonb'::regtype)
        then (x ->> 'value')::jsonb else x -> 'value' end)
    from jsonb_array_elements(wal.w -> p.part) as x
  ) as vals
  from wal, (values ('columns'), ('identity')) as p (part)
),
typed as (select part, vals, jsonb_populate_record(null::{relation}, vals) as image from parts)
select 'meta', null::text, jsonb_build_array(
  to_char((w ->> 'timestamp')::timestamptz at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  -- Supabase measures the decoder's record without our extra `lsn` key
  octet_length((w - 'lsn')::text) > {limit},
  (select c.relrowsecurity from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
   where n.nspname = {schema} and c.relname = {table}))::text
from wal
union all
select 'filters', null, (select jsonb_build_array({conditions}) from typed where part = {row_part})::text
union all
select t.part, e.key, e.value::text
from typed as t, jsonb_each(to_jsonb(t.image)) as e
where t.vals ? e.key
"""

_COLUMNS = """
select r.role, a.attname::text, t.typname::text
from unnest({roles}::text[]) as r (role)
join pg_roles as pr on pr.rolname = r.role
join pg_namespace as n on n.nspname = {schema}
join pg_class as c on c.relnamespace = n.oid and c.relname = {table}
join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
join pg_type as t on t.oid = a.atttypid
where has_column_privilege(pr.oid, c.oid, a.attnum, 'SELECT')
order by r.role, a.attnum
"""


@dataclass(frozen=True)
class Rendered:
    """A change's values as JSON text, and what its subscribers' checks need."""

    change: Change
    commit_timestamp: str
    oversize: bool
    rls_enabled: bool
    new_values: dict[str, str]
    old_values: dict[str, str]
    passes: dict[Filter, bool]
    columns: dict[str, tuple[tuple[str, str], ...]]


async def render(
    conn: AsyncConnection[TupleRow],
    change: Change,
    filters: Sequence[Filter],
    roles: Sequence[str],
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> Rendered:
    """Render one change, evaluate `filters` on it and list the columns each role may see."""
    unique = list(dict.fromkeys(filters))
    cursor = await conn.execute(_rows_query(change, unique, max_record_bytes))
    meta, results, parts = _read_rows(change, await cursor.fetchall())
    return Rendered(
        change=change,
        commit_timestamp=str(meta[0]),
        oversize=bool(meta[1]),
        rls_enabled=bool(meta[2]),
        new_values=parts["columns"],
        old_values=parts["identity"],
        passes=dict(zip(unique, results, strict=True)),
        columns=await _columns(conn, change, roles),
    )


def _read_rows(
    change: Change, rows: list[TupleRow]
) -> tuple[list[object], list[bool], dict[str, dict[str, str]]]:
    """Split the query's rows into its meta row, its filter results and the values of each part."""
    parts: dict[str, dict[str, str]] = {"columns": {}, "identity": {}}
    meta: list[object] = []
    results: list[bool] = []
    for part, key, value in rows:
        if part == "meta":
            meta = json.loads(value)
        elif part == "filters":
            results = json.loads(value)
        elif key is not None:
            parts[part][key] = change.verbatim.get((part, key)) or str(value)
    return meta, results, parts


def _rows_query(change: Change, filters: Sequence[Filter], max_record_bytes: int) -> sql.Composed:
    return sql.SQL(_ROWS).format(
        # Literals only: a `%` inside a filter value would be read as a placeholder otherwise.
        wal=sql.Literal(change.wal),
        relation=change.relation,
        limit=sql.Literal(max_record_bytes),
        schema=sql.Literal(change.schema),
        table=sql.Literal(change.table),
        conditions=sql.SQL(", ").join(item.condition("image") for item in filters),
        row_part=sql.Literal(change.row_part),
    )


async def _columns(
    conn: AsyncConnection[TupleRow], change: Change, roles: Sequence[str]
) -> dict[str, tuple[tuple[str, str], ...]]:
    query = sql.SQL(_COLUMNS).format(
        roles=sql.Literal(sorted(set(roles))),
        schema=sql.Literal(change.schema),
        table=sql.Literal(change.table),
    )
    cursor = await conn.execute(query)
    found: dict[str, list[tuple[str, str]]] = {}
    for role, name, type_name in await cursor.fetchall():
        found.setdefault(role, []).append((str(name), type_name))
    return {role: tuple(columns) for role, columns in found.items()}
