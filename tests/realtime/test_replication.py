"""The replication slot: created per server, cleaned up after a crash, and resumed without loss or repeats."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import psycopg
import pytest
from psycopg.rows import DictRow

from canvasgen_stack.realtime.changes import Change
from canvasgen_stack.realtime.replication import SLOT_PREFIX, Replication
from tests.support import ALICE_ID, create_canvas

pytestmark = pytest.mark.anyio

Db = psycopg.Connection[DictRow]


def slots(db: Db) -> set[str]:
    rows = db.execute(
        "select slot_name from pg_replication_slots where slot_name like %s", (SLOT_PREFIX + "%",)
    )
    return {row["slot_name"] for row in rows.fetchall()}


def decoder(db: Db, slot: str) -> int | None:
    """Return the server process that streams a slot, if one does."""
    row = db.execute("select active_pid from pg_replication_slots where slot_name = %s", (slot,)).fetchone()
    return None if row is None else row["active_pid"]


async def versions(stream: AsyncIterator[Change], project_id: str, count: int) -> list[int]:
    """Read changes until `count` of them are updates of the project; return their versions."""
    found: list[int] = []
    while len(found) < count:
        change = await asyncio.wait_for(anext(stream), 10)
        if change.table == "projects" and change.key_values == (project_id,):
            values = {column["name"]: column["value"] for column in json.loads(change.wal)["columns"]}
            found.append(values["version"])
    return found


async def test_abandoned_slots_are_dropped_and_own_slot_removed(database: str, db: Db) -> None:
    """Starting drops inactive slots a dead server left; stopping drops the server's own slot."""
    db.execute("set output_plugin_libraries = pgoutput, test_decoding, wal2json")
    db.execute("select pg_create_logical_replication_slot(%s, 'wal2json')", (SLOT_PREFIX + "abandoned",))
    replication = Replication(database)
    await replication.start()
    try:
        assert SLOT_PREFIX + "abandoned" not in slots(db) and replication.slot in slots(db)
    finally:
        await replication.stop()
    assert replication.slot not in slots(db)


async def test_a_lost_decoder_resumes_without_losing_or_repeating(database: str, db: Db) -> None:
    """A decoder whose connection drops restarts at the slot and skips transactions already passed on."""
    canvas = create_canvas(db, ALICE_ID)
    replication = Replication(database)
    await replication.start()
    stream = replication.changes()
    try:
        for _ in range(3):
            db.execute("update public.projects set name = 'before' where id = %s", (canvas.id,))
        before = await versions(stream, canvas.id, 3)
        first = decoder(db, replication.slot)
        db.execute("select pg_terminate_backend(%s)", (first,))
        for _ in range(3):
            db.execute("update public.projects set name = 'after' where id = %s", (canvas.id,))
        after = await versions(stream, canvas.id, 3)
        db.execute("update public.projects set name = 'last' where id = %s", (canvas.id,))
        last = await versions(stream, canvas.id, 1)
        restarted = decoder(db, replication.slot)
    finally:
        await replication.stop()
    assert before + after + last == [2, 3, 4, 5, 6, 7, 8]
    assert restarted not in (None, first)


def test_a_transaction_sent_again_is_passed_on_once() -> None:
    """Records repeated after a restart, whole or from inside a transaction, are skipped; new ones pass."""
    replication = Replication("postgresql://127.0.0.1/unused")

    def change(n: int) -> str:
        return json.dumps({"action": "U", "schema": "public", "table": "t", "columns": [], "pk": [], "n": n})

    def read(*lines: str) -> list[int]:
        passed = [replication.follow(line) for line in lines]
        return [json.loads(item.wal)["n"] for item in passed if item is not None]

    begin_1, commit_1 = '{"action":"B","lsn":"0/10"}', '{"action":"C","lsn":"0/10"}'
    begin_2, commit_2 = '{"action":"B","lsn":"0/20"}', '{"action":"C","lsn":"0/20"}'
    assert read(begin_1, change(1), change(2), commit_1, begin_2, change(3)) == [1, 2, 3]
    # the decoder died inside transaction 0/20 and starts again at transaction 0/10
    assert read(begin_1, change(1), change(2), commit_1, begin_2, change(3), change(4), commit_2) == [4]
    assert read("not json", '{"action":"B","lsn":"1/0"}', change(5), '{"action":"C","lsn":"1/0"}') == [5]
