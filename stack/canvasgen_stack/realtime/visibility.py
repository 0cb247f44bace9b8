"""Row level security for subscribers, checked in SQL as each subscriber's role with its claims.

As Supabase does, a changed row is shown to a subscriber only if, under
`set_config('role', <claims.role>)` and `set_config('request.jwt.claims', <claims>)`, a SELECT of
that row by primary key finds it; the policies (`auth.uid()` and friends) decide. The check reads
the row as it is now, not the decoded image, as Supabase's does. One call checks every distinct
claims set of a change's subscribers, so many subscribers cost one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection, sql
from psycopg.rows import TupleRow

from canvasgen_stack.realtime.changes import Change

# A session-local function: it lives in this connection's pg_temp schema only, so the database the
# migrations describe stays untouched. The probe is prepared once per change: planning it again for
# every claims set would cost more than the check. A claims set whose check raises sees nothing.
FUNCTION = """
create or replace function pg_temp.canvasgen_visible_to(probe text, claim_sets jsonb)
returns boolean[]
language plpgsql
as $$
declare
  claims jsonb;
  seen boolean;
  answers boolean[] := '{}';
begin
  if exists (select 1 from pg_prepared_statements where name = 'canvasgen_probe') then
    deallocate canvasgen_probe;
  end if;
  execute 'prepare canvasgen_probe as ' || probe;
  for claims in select value from jsonb_array_elements(claim_sets) loop
    begin
      perform set_config('role', claims ->> 'role', true),
              set_config('request.jwt.claims', claims::text, true);
      execute 'execute canvasgen_probe' into seen;
    exception when others then
      seen := false;
    end;
    perform set_config('role', 'none', true);
    answers := answers || coalesce(seen, false);
  end loop;
  deallocate canvasgen_probe;
  return answers;
end;
$$
"""


async def install(conn: AsyncConnection[TupleRow]) -> None:
    """Create the check function for this connection's session."""
    await conn.execute(FUNCTION)


def probe(change: Change) -> sql.Composed:
    """Return the SELECT that finds the changed row by its primary key."""
    matches = sql.SQL(" and ").join(
        sql.SQL("{} = {}").format(sql.Identifier(name), sql.Literal(value))
        for name, value in zip(change.primary_key, change.key_values, strict=True)
    )
    return sql.SQL("select exists (select 1 from {} where {})").format(change.relation, matches)


async def visible(conn: AsyncConnection[TupleRow], change: Change, claim_sets: Sequence[str]) -> list[bool]:
    """Tell, for each claims JSON text, whether its role may SELECT the changed row."""
    if not claim_sets:
        return []
    probe_text = probe(change).as_string(conn)
    # One JSON array rather than a SQL array: quoting hundreds of array elements costs more than the check.
    query = sql.SQL("select pg_temp.canvasgen_visible_to({}, {}::jsonb)").format(
        sql.Literal(probe_text), sql.Literal("[" + ",".join(claim_sets) + "]")
    )
    row = await (await conn.execute(query)).fetchone()
    return [bool(answer) for answer in row[0]] if row else [False] * len(claim_sets)
