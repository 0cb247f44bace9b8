"""Values reach subscribers as Postgres renders them to JSON, for the types a canvas table may hold."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import DictRow

from canvasgen_stack.config import StackSettings
from tests.realtime.support import phoenix

pytestmark = pytest.mark.anyio

Db = psycopg.Connection[DictRow]
TABLE = "public.realtime_value_kinds"
VALUES = """
  (1, 1.50, 9007199254740993, 1e300, true, 'héllo "quoted"', '{a,"b c"}', '{1,2}',
   '{"x": 1.50, "y": [1, 2], "z": null}', '{"k":   "v"}', '2026-12-04 12:00:00.123456',
   '2026-12-04 12:00:00.5+02', '2026-12-04', '00:00:00.5', '1 day 02:00', '\\x0102', null)
"""


@pytest.fixture
def value_kinds(db: Db) -> Iterator[str]:
    """A published table with one column of each common type, whole old rows kept, no row level security."""
    db.execute(f"drop table if exists {TABLE}")
    db.execute(
        f"""create table {TABLE} (
          id int primary key, amount numeric, big bigint, huge double precision, flag boolean, label text,
          tags text[], counts int[], doc jsonb, raw json, at timestamp, at_tz timestamptz, day date,
          span time, gap interval, bytes bytea, nothing text)"""
    )
    db.execute(f"alter table {TABLE} replica identity full")
    db.execute(f"alter publication supabase_realtime add table {TABLE}")
    yield TABLE
    db.execute(f"drop table {TABLE}")


async def test_every_type_is_rendered_like_to_jsonb(
    realtime: StackSettings, value_kinds: str, db: Db
) -> None:
    """Each value equals Postgres' `to_jsonb`; numbers keep their digits; bytea stays the decoder's text."""
    binding = [{"event": "*", "schema": "public", "table": "realtime_value_kinds"}]
    async with phoenix(realtime, realtime.service_role_key) as socket:
        await socket.subscribed("realtime:values", binding)
        db.execute(f"insert into {value_kinds} values {VALUES}")
        inserted = await socket.connection.recv()
        db.execute(f"update {value_kinds} set flag = false")
        updated = json.loads(await socket.connection.recv())[4]["data"]
    row = db.execute(f"select to_jsonb(t) as row from {value_kinds} as t").fetchone()
    assert row is not None
    record = json.loads(inserted)[4]["data"]["record"]
    assert record.pop("bytes") == "0102"
    expected = {key: value for key, value in row["row"].items() if key != "bytes"}
    assert record == {**expected, "flag": True}
    assert '"amount":1.50' in inserted.replace(" ", "") and "9007199254740993" in inserted
    assert updated["record"]["flag"] is False and updated["old_record"]["flag"] is True
    assert updated["old_record"]["doc"] == {"x": 1.5, "y": [1, 2], "z": None}
