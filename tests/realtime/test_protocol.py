"""The Phoenix protocol details the official clients depend on, checked with a raw socket."""

from __future__ import annotations

import json

import psycopg
import pytest
import websockets
from psycopg.rows import DictRow
from websockets.exceptions import InvalidStatus

from canvasgen_stack.config import StackSettings
from tests.realtime.support import changes_of, phoenix
from tests.support import ALICE_ID, BOB_ID, create_canvas

pytestmark = pytest.mark.anyio

Db = psycopg.Connection[DictRow]
PROJECTS = {"event": "*", "schema": "public", "table": "projects"}


def url(settings: StackSettings, query: str) -> str:
    return f"ws://{settings.host}:{settings.api_port}/realtime/v1/websocket?{query}"


async def refused(address: str) -> tuple[int, dict[str, str]]:
    """Open a socket that must be refused; return the HTTP status and JSON body."""
    with pytest.raises(InvalidStatus) as refusal:
        async with websockets.connect(address):
            pass
    response = refusal.value.response
    return response.status_code, json.loads(response.body or b"{}")


@pytest.mark.parametrize("vsn", ["1.0.0", "2.0.0", None])
async def test_heartbeat_is_answered(realtime: StackSettings, alice_token: str, vsn: str | None) -> None:
    """A heartbeat gets an ok reply with its own ref, in the serializer the vsn asked for (none = 1.0.0)."""
    async with phoenix(realtime, alice_token, vsn) as socket:
        ref = await socket.send("phoenix", "heartbeat", {})
        assert await socket.receive() == (None, ref, "phoenix", "phx_reply", {"status": "ok", "response": {}})


async def test_join_echoes_bindings_in_order_with_stable_ids(
    realtime: StackSettings, alice_token: str
) -> None:
    """The join reply echoes every binding verbatim, in order, with a non-zero id stable per binding."""
    bindings = [
        {"event": "UPDATE", "schema": "public", "table": "projects", "filter": "version=gt.1"},
        {"event": "INSERT", "schema": "public", "table": "projects"},
        {"event": "UPDATE", "schema": "public", "table": "projects", "filter": "version=gt.1"},
    ]
    async with phoenix(realtime, alice_token) as socket:
        reply = await socket.join("realtime:echo", bindings, alice_token)
        again = await socket.join("realtime:echo-again", bindings[:2], alice_token)
    echoed = reply[4]["response"]["postgres_changes"]
    assert [{k: v for k, v in entry.items() if k != "id"} for entry in echoed] == bindings
    ids = [entry["id"] for entry in echoed]
    assert all(isinstance(i, int) and i > 0 for i in ids) and ids[0] == ids[2] != ids[1]
    assert [entry["id"] for entry in again[4]["response"]["postgres_changes"]] == ids[:2]


async def test_one_message_per_channel_carries_every_matching_filter(
    realtime: StackSettings, alice_token: str, db: Db
) -> None:
    """Each operator is evaluated with the column's type; the message lists exactly the matching ids."""
    canvas = create_canvas(db, ALICE_ID)
    filters = {
        "version=eq.2": True,
        "version=neq.2": False,
        "version=lt.2": False,
        "version=lte.2": True,
        "version=gt.2": False,
        "version=gte.2": True,
        "version=in.(1,2,3)": True,
        "version=in.(5,6)": False,
        "version=lt.10": True,
        f"id=eq.{canvas.id.upper()}": True,
        f"user_id=neq.{ALICE_ID}": False,
        'name=in.("renamed, twice",other)': True,
        "name=gt.renamed": True,
    }
    bindings = [{**PROJECTS, "event": "UPDATE", "filter": text} for text in filters]
    async with phoenix(realtime, alice_token) as socket:
        ids = await socket.subscribed("realtime:filters", bindings, alice_token)
        db.execute("update public.projects set name = 'renamed, twice' where id = %s", (canvas.id,))
        frame = await socket.expect(lambda f: f[3] == "postgres_changes")
        assert changes_of(await socket.silent(0.3)) == []
    expected = [i for i, matches in zip(ids, filters.values(), strict=True) if matches]
    assert frame[:4] == (None, None, "realtime:filters", "postgres_changes")
    assert frame[4]["ids"] == expected


async def test_events_select_insert_update_delete(realtime: StackSettings, alice_token: str, db: Db) -> None:
    """INSERT, UPDATE, DELETE and * bindings each get the changes of their kind."""
    events = ["INSERT", "UPDATE", "DELETE", "*"]
    async with phoenix(realtime, alice_token) as socket:
        ids = dict(
            zip(
                events,
                await socket.subscribed("realtime:events", [{**PROJECTS, "event": e} for e in events]),
                strict=True,
            )
        )
        canvas = create_canvas(db, ALICE_ID)
        inserted = await socket.expect(lambda f: f[3] == "postgres_changes")
        db.execute("update public.projects set name = 'x' where id = %s", (canvas.id,))
        updated = await socket.expect(lambda f: f[3] == "postgres_changes")
        db.execute("delete from public.projects where id = %s", (canvas.id,))
        deleted = await socket.expect(lambda f: f[3] == "postgres_changes")
    for frame, event in ((inserted, "INSERT"), (updated, "UPDATE"), (deleted, "DELETE")):
        assert frame[4]["data"]["type"] == event
        assert frame[4]["ids"] == [ids[event], ids["*"]]


async def test_unmatched_topics_are_refused(realtime: StackSettings, alice_token: str) -> None:
    """Messages for a topic that is not joined, and joins outside `realtime:`, get `unmatched topic`."""
    async with phoenix(realtime, alice_token) as socket:
        for topic, event in (("realtime:nowhere", "broadcast"), ("elsewhere", "phx_join"), ("phoenix", "x")):
            ref = await socket.send(topic, event, {})
            reply = await socket.expect(lambda f, ref=ref: f[1] == ref)
            assert reply[3:] == ("phx_reply", {"status": "error", "response": {"reason": "unmatched topic"}})


async def test_garbage_binary_frames_and_unknown_events_do_not_hurt(
    realtime: StackSettings, alice_token: str, db: Db
) -> None:
    """Binary frames, non-JSON, ill-shaped messages and unknown events are ignored; the socket works on."""
    canvas = create_canvas(db, ALICE_ID)
    async with phoenix(realtime, alice_token) as socket:
        await socket.subscribed("realtime:noise", [{**PROJECTS, "filter": f"id=eq.{canvas.id}"}])
        for junk in (b"\x03\x01\x02binary broadcast", "not json", "[1, 2]", '{"topic": 5}', "[]", "null"):
            await socket.connection.send(junk)
        await socket.send("realtime:noise", "no_such_event", {"x": 1}, join_ref="1")
        await socket.send("realtime:noise", "broadcast", {"type": "broadcast", "event": "e", "payload": {}})
        ref = await socket.send("phoenix", "heartbeat", {})
        assert (await socket.expect(lambda f: f[1] == ref))[4]["status"] == "ok"
        db.execute("update public.projects set name = 'still here' where id = %s", (canvas.id,))
        frame = await socket.expect(lambda f: f[3] == "postgres_changes")
    assert frame[4]["data"]["record"]["name"] == "still here"


@pytest.mark.parametrize("vsn", ["1.0.0", "2.0.0"])
async def test_leave_replies_then_closes_with_the_join_ref(
    realtime: StackSettings, alice_token: str, db: Db, vsn: str
) -> None:
    """phx_leave gets an ok reply, then phx_close whose ref is the join ref; no change follows."""
    canvas = create_canvas(db, ALICE_ID)
    async with phoenix(realtime, alice_token, vsn) as socket:
        await socket.subscribed("realtime:leaving", [{**PROJECTS, "filter": f"id=eq.{canvas.id}"}])
        join_ref = str(socket.ref)
        leave_ref = await socket.send("realtime:leaving", "phx_leave", {}, join_ref=join_ref)
        reply, close = await socket.receive(), await socket.receive()
        db.execute("update public.projects set name = 'gone' where id = %s", (canvas.id,))
        assert changes_of(await socket.silent(0.5)) == []
    sent_join_ref = join_ref if vsn == "2.0.0" else None
    assert reply == (
        sent_join_ref,
        leave_ref,
        "realtime:leaving",
        "phx_reply",
        {"status": "ok", "response": {}},
    )
    assert close == (sent_join_ref, join_ref, "realtime:leaving", "phx_close", {})


async def test_access_token_refresh_swaps_the_claims(
    realtime: StackSettings, alice_token: str, bob_token: str, db: Db
) -> None:
    """After an `access_token` push the channel sees rows as the new token's user, with no reply."""
    canvas = create_canvas(db, ALICE_ID)
    async with phoenix(realtime, realtime.anon_key) as socket:
        await socket.subscribed("realtime:swap", [{**PROJECTS, "filter": f"id=eq.{canvas.id}"}], bob_token)
        db.execute("update public.projects set name = 'hidden from bob' where id = %s", (canvas.id,))
        assert changes_of(await socket.silent(0.5)) == []
        await socket.send("realtime:swap", "access_token", {"access_token": alice_token}, join_ref="1")
        system = await socket.expect(lambda f: f[3] == "system")
        db.execute("update public.projects set name = 'for alice' where id = %s", (canvas.id,))
        frame = await socket.expect(lambda f: f[3] == "postgres_changes")
    assert system[4]["status"] == "ok"
    assert frame[4]["data"]["record"]["name"] == "for alice"


async def test_bad_refresh_token_closes_the_channel(realtime: StackSettings, alice_token: str) -> None:
    """An expired token pushed as `access_token` ends the channel: a system error, then phx_close."""
    expired = realtime.user_token(ALICE_ID, "alice@example.com", lifetime_seconds=-10)
    async with phoenix(realtime, alice_token) as socket:
        await socket.subscribed("realtime:expiring", [PROJECTS])
        await socket.send("realtime:expiring", "access_token", {"access_token": expired}, join_ref="1")
        system, close = await socket.receive(), await socket.receive()
    assert system[3] == "system" and system[4]["status"] == "error" and system[4]["extension"] == "system"
    assert system[4]["message"].startswith("Token has expired")
    assert close[1:4] == ("1", "realtime:expiring", "phx_close")


async def test_channel_closes_when_its_token_expires(realtime: StackSettings) -> None:
    """A joined channel is shut with a system error once its token's `exp` passes."""
    short = realtime.user_token(BOB_ID, "bob@example.com", lifetime_seconds=2)
    async with phoenix(realtime, short) as socket:
        await socket.subscribed("realtime:short", [PROJECTS])
        system = await socket.expect(lambda f: f[3] == "system", timeout=5)
        close = await socket.expect(lambda f: f[3] == "phx_close", timeout=2)
    assert system[4]["message"].startswith("Token has expired") and close[1] == "1"


async def test_keys_are_verified_at_the_handshake(realtime: StackSettings) -> None:
    """A missing, expired, forged or claim-less key is refused with HTTP 401 and a JSON error."""
    expired = realtime.user_token(ALICE_ID, "alice@example.com", lifetime_seconds=-5)
    forged = StackSettings(jwt_secret="another-secret-of-at-least-thirty-two-chars").anon_key
    no_role = __import__("jwt").encode({"exp": 2**31}, realtime.jwt_secret, algorithm="HS256")
    assert await refused(url(realtime, "vsn=2.0.0")) == (401, {"error": "API key is missing"})
    status, body = await refused(url(realtime, f"apikey={expired}&vsn=2.0.0"))
    assert status == 401 and body["error"].startswith("Token has expired")
    assert await refused(url(realtime, f"apikey={forged}")) == (
        401,
        {"error": "Failed to validate JWT signature"},
    )
    assert await refused(url(realtime, f"apikey={no_role}")) == (
        401,
        {"error": "Fields `role` and `exp` are required in JWT"},
    )


async def test_join_with_expired_token_is_refused(realtime: StackSettings) -> None:
    """A join whose access_token has expired gets an error reply naming the reason."""
    expired = realtime.user_token(ALICE_ID, "alice@example.com", lifetime_seconds=-5)
    async with phoenix(realtime, realtime.anon_key) as socket:
        reply = await socket.join("realtime:late", [PROJECTS], expired)
    assert reply[4]["status"] == "error"
    assert reply[4]["response"]["reason"].startswith("InvalidJWTToken: Token has expired")


@pytest.mark.parametrize(
    ("binding", "message"),
    [
        ({"event": "*", "schema": "public", "table": "generation_jobs"}, "Unable to subscribe to changes"),
        ({**PROJECTS, "filter": "id=eq.not-a-uuid"}, "Unable to subscribe to changes"),
        ({**PROJECTS, "filter": "nope=eq.1"}, "Unable to subscribe to changes"),
        ({**PROJECTS, "filter": "id=like.abc"}, "Error parsing `filter` params"),
    ],
)
async def test_unservable_bindings_get_a_system_error(
    realtime: StackSettings, alice_token: str, binding: dict[str, str], message: str
) -> None:
    """Unpublished tables and bad filters get an ok reply, then a postgres_changes system error."""
    async with phoenix(realtime, alice_token) as socket:
        reply = await socket.join("realtime:bad", [binding])
        system = await socket.expect(lambda f: f[3] == "system")
    assert reply[4]["status"] == "ok"
    assert system[4]["extension"] == "postgres_changes" and system[4]["status"] == "error"
    assert system[4]["message"].startswith(message)


async def test_a_second_join_replaces_the_first(realtime: StackSettings, alice_token: str, db: Db) -> None:
    """Joining a topic again closes the earlier join (phx_close with its ref) and serves the new one once."""
    canvas = create_canvas(db, ALICE_ID)
    binding = [{**PROJECTS, "filter": f"id=eq.{canvas.id}"}]
    async with phoenix(realtime, alice_token) as socket:
        await socket.subscribed("realtime:twice", binding)
        reply = await socket.join("realtime:twice", binding)
        await socket.expect(lambda f: f[3] == "system")
        db.execute("update public.projects set name = 'once' where id = %s", (canvas.id,))
        frames = await socket.silent(0.5)
    assert reply[4]["status"] == "ok" and reply[0] == "2"
    assert ("1", "1", "realtime:twice", "phx_close", {}) in frames
    assert len(changes_of(frames)) == 1


async def test_anon_sees_only_an_unauthorized_error(realtime: StackSettings, db: Db) -> None:
    """A role that may not SELECT the primary key gets `Error 401: Unauthorized` and no row."""
    canvas = create_canvas(db, ALICE_ID)
    async with phoenix(realtime, realtime.anon_key) as socket:
        await socket.subscribed("realtime:anon", [PROJECTS])
        db.execute("update public.projects set name = 'private' where id = %s", (canvas.id,))
        frame = await socket.expect(lambda f: f[3] == "postgres_changes")
    assert frame[4]["data"] == {
        "schema": "public",
        "table": "projects",
        "type": "UPDATE",
        "errors": ["Error 401: Unauthorized"],
    }
