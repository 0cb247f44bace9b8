"""The official supabase-js (2.119, Node) against the server, under both serializers."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import DictRow

from canvasgen_stack.config import StackSettings
from tests.realtime.support import JsSubscriber
from tests.support import ALICE_ID, create_canvas, load_content

Db = psycopg.Connection[DictRow]


def subscribe(settings: StackSettings, token: str, vsn: str, project_id: str) -> JsSubscriber:
    """Start supabase-js subscribed to one project's UPDATEs; return once changes flow."""
    js = JsSubscriber(
        {
            "url": settings.api_url,
            "anonKey": settings.anon_key,
            "accessToken": token,
            "vsn": vsn,
            "channel": f"canvas:{project_id}",
            "bindings": [
                {"event": "UPDATE", "schema": "public", "table": "projects", "filter": f"id=eq.{project_id}"}
            ],
            "seconds": 30,
        }
    )
    assert js.next_line(lambda line: line["kind"] == "status")["status"] == "SUBSCRIBED"
    assert js.next_line(lambda line: line["kind"] == "system")["payload"]["status"] == "ok"
    return js


@pytest.mark.parametrize("vsn", ["2.0.0", "1.0.0"])
def test_supabase_js_receives_the_new_content(
    realtime: StackSettings, alice_token: str, db: Db, vsn: str
) -> None:
    """A node's generation state written in SQL reaches supabase-js as `payload.new.content`."""
    canvas = create_canvas(db, ALICE_ID)
    js = subscribe(realtime, alice_token, vsn, canvas.id)
    try:
        db.execute(
            "select public.patch_node_data(%s, 'video-1', %s::jsonb)",
            (canvas.id, '{"status": "completed", "url": "http://127.0.0.1/media/v.mp4", "progress": 1.50}'),
        )
        change = js.next_line(lambda line: line["kind"] == "change")["payload"]
    finally:
        js.close()
    assert (change["eventType"], change["schema"], change["table"], change["errors"]) == (
        "UPDATE",
        "public",
        "projects",
        None,
    )
    assert change["new"]["content"] == load_content(db, canvas.id)
    assert change["old"] == {"id": canvas.id}
