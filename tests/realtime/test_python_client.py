"""The official Python client (`realtime` 2.34.1, vsn 1.0.0) against the server and the real database."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb
from realtime import AsyncRealtimeClient, RealtimeSubscribeStates

from canvasgen_stack.config import StackSettings
from tests.support import ALICE_ID, BOB_ID, create_canvas

pytestmark = pytest.mark.anyio

Db = psycopg.Connection[DictRow]


def columns(db: Db) -> list[dict[str, str]]:
    """Return the projects table's columns as Supabase lists them: name and pg_type name, by attnum."""
    rows = db.execute(
        "select a.attname as name, t.typname as type"
        " from pg_attribute as a join pg_type as t on t.oid = a.atttypid"
        " where a.attrelid = 'public.projects'::regclass and a.attnum > 0 and not a.attisdropped"
        " order by a.attnum"
    ).fetchall()
    return [dict(row) for row in rows]


def rendered_row(db: Db, project_id: str) -> dict[str, Any]:
    """Return the row as Postgres renders it to JSON (`to_jsonb`)."""
    row = db.execute(
        "select to_jsonb(p) as row from public.projects as p where id = %s", (project_id,)
    ).fetchone()
    assert row is not None
    rendered: dict[str, Any] = row["row"]
    return rendered


@asynccontextmanager
async def subscriber(
    settings: StackSettings, token: str, event: str = "*", project_id: str | None = None
) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
    """Subscribe with the official client; yield the queue its callback fills, once changes flow."""
    client = AsyncRealtimeClient(f"ws://{settings.host}:{settings.api_port}/realtime/v1", token=token)
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    live: asyncio.Queue[Any] = asyncio.Queue()
    states: list[RealtimeSubscribeStates] = []
    channel = client.channel(f"canvas-{uuid.uuid4()}")
    channel.on_postgres_changes(
        event,  # type: ignore[arg-type]
        lambda payload: received.put_nowait(dict(payload)),
        table="projects",
        schema="public",
        filter=f"id=eq.{project_id}" if project_id else None,
    )
    channel.on_system(live.put_nowait)
    await channel.subscribe(lambda state, error: states.append(state))
    try:
        assert states == [RealtimeSubscribeStates.SUBSCRIBED]
        system = await asyncio.wait_for(live.get(), 5)
        assert (system.status, system.message) == ("ok", "Subscribed to PostgreSQL")
        yield received
    finally:
        await client.close()


async def test_update_arrives_in_supabase_wire_shape(
    realtime: StackSettings, alice_token: str, db: Db
) -> None:
    """A plain SQL UPDATE reaches a filtered subscriber with the exact `postgres_changes` data."""
    canvas = create_canvas(db, ALICE_ID)
    async with subscriber(realtime, alice_token, "UPDATE", canvas.id) as received:
        db.execute("update public.projects set name = 'renamed' where id = %s", (canvas.id,))
        payload = await asyncio.wait_for(received.get(), 5)
    data = payload["data"]
    assert len(payload["ids"]) == 1 and payload["ids"][0] > 0
    assert set(data) == {
        "schema",
        "table",
        "commit_timestamp",
        "type",
        "columns",
        "record",
        "old_record",
        "errors",
    }
    assert (data["schema"], data["table"], data["type"], data["errors"]) == (
        "public",
        "projects",
        "UPDATE",
        None,
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["commit_timestamp"])
    assert data["columns"] == columns(db)
    assert data["old_record"] == {"id": canvas.id}
    assert data["record"] == rendered_row(db, canvas.id)
    record = data["record"]
    assert (record["name"], record["content"], record["version"], record["user_id"]) == (
        "renamed",
        canvas.content,
        2,
        ALICE_ID,
    )
    # timestamptz as Postgres renders it to JSON in a UTC session: ISO 8601 with the offset
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", record["updated_at"])


async def test_insert_and_delete_reach_their_bindings(
    realtime: StackSettings, alice_token: str, db: Db
) -> None:
    """INSERT carries the new row; DELETE carries only the key, as Supabase does on a table with RLS."""
    async with subscriber(realtime, alice_token, "*") as received:
        canvas = create_canvas(db, ALICE_ID)
        # Policies are checked against the row as it is when the change is delivered (as Supabase does),
        # so the row must still exist when its INSERT goes out.
        inserted = (await asyncio.wait_for(received.get(), 5))["data"]
        db.execute("delete from public.projects where id = %s", (canvas.id,))
        deleted = (await asyncio.wait_for(received.get(), 5))["data"]
    assert inserted["type"] == "INSERT" and inserted["record"]["content"] == canvas.content
    assert "old_record" not in inserted
    assert deleted["type"] == "DELETE" and deleted["old_record"] == {"id": canvas.id}
    assert "record" not in deleted


async def test_a_user_never_receives_another_users_project(
    realtime: StackSettings, alice_token: str, bob_token: str, db: Db
) -> None:
    """Bob subscribed to Alice's project id gets nothing while Alice's subscriber gets the change."""
    alices, bobs = create_canvas(db, ALICE_ID), create_canvas(db, BOB_ID)
    async with (
        subscriber(realtime, alice_token, "*", alices.id) as alice_received,
        subscriber(realtime, bob_token, "*", alices.id) as bob_spying,
        subscriber(realtime, bob_token, "*", bobs.id) as bob_received,
    ):
        db.execute("update public.projects set name = 'secret plan' where id = %s", (alices.id,))
        db.execute("update public.projects set name = 'his own' where id = %s", (bobs.id,))
        assert (await asyncio.wait_for(alice_received.get(), 5))["data"]["record"]["name"] == "secret plan"
        assert (await asyncio.wait_for(bob_received.get(), 5))["data"]["record"]["name"] == "his own"
        await asyncio.sleep(0.3)
        assert bob_spying.empty()


async def test_oversized_record_keeps_small_fields_and_says_413(
    realtime: StackSettings, alice_token: str, db: Db
) -> None:
    """A change over 1 MiB arrives with only values of at most 64 bytes and `Error 413`."""
    canvas = create_canvas(db, ALICE_ID)
    huge = {"nodes": [{"id": "video-1", "type": "video", "data": {"prompt": "x" * (1024 * 1024 + 10)}}]}
    async with subscriber(realtime, alice_token, "UPDATE", canvas.id) as received:
        db.execute("update public.projects set content = %s where id = %s", (Jsonb(huge), canvas.id))
        data = (await asyncio.wait_for(received.get(), 10))["data"]
    assert data["errors"] == ["Error 413: Payload Too Large"]
    assert data["columns"] == columns(db)
    small = {key for key, value in rendered_row(db, canvas.id).items() if len(json.dumps(value)) <= 64}
    assert "content" not in small and set(data["record"]) == small
    assert data["record"]["id"] == canvas.id and data["old_record"] == {"id": canvas.id}


async def test_changes_arrive_in_commit_order(realtime: StackSettings, alice_token: str, db: Db) -> None:
    """Every committed change arrives, in commit order, across transactions of one and several rows."""
    canvas = create_canvas(db, ALICE_ID)
    async with subscriber(realtime, alice_token, "UPDATE", canvas.id) as received:
        for _ in range(20):
            db.execute("update public.projects set name = 'step' where id = %s", (canvas.id,))
        with db.transaction():
            for _ in range(5):
                db.execute("update public.projects set name = 'step' where id = %s", (canvas.id,))
        versions = [
            (await asyncio.wait_for(received.get(), 5))["data"]["record"]["version"] for _ in range(25)
        ]
    assert versions == list(range(2, 27))


async def test_set_auth_switches_the_user_the_channel_reads_as(
    realtime: StackSettings, alice_token: str, bob_token: str, db: Db
) -> None:
    """`set_auth` with Alice's token makes Bob's channel on her project start receiving its changes."""
    canvas = create_canvas(db, ALICE_ID)
    client = AsyncRealtimeClient(f"ws://{realtime.host}:{realtime.api_port}/realtime/v1", token=bob_token)
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    live: asyncio.Queue[Any] = asyncio.Queue()
    channel = client.channel(f"canvas-{uuid.uuid4()}")
    channel.on_postgres_changes(
        "UPDATE",  # type: ignore[arg-type]
        lambda payload: received.put_nowait(dict(payload)),
        table="projects",
        filter=f"id=eq.{canvas.id}",
    )
    channel.on_system(live.put_nowait)
    try:
        await channel.subscribe()
        await asyncio.wait_for(live.get(), 5)
        db.execute("update public.projects set name = 'not for bob' where id = %s", (canvas.id,))
        await asyncio.sleep(0.3)
        assert received.empty()
        await client.set_auth(alice_token)
        await asyncio.wait_for(live.get(), 5)  # subscribed again under the new claims
        db.execute("update public.projects set name = 'for alice' where id = %s", (canvas.id,))
        assert (await asyncio.wait_for(received.get(), 5))["data"]["record"]["name"] == "for alice"
    finally:
        await client.close()
