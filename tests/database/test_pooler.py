"""The functions behind a pooler in transaction mode: no server-side prepared statement, ever.

psycopg prepares a statement on the server once it has run it `prepare_threshold` times (5 by default).
Behind Supabase's pooler in transaction mode the next transaction may run on another server session,
where that statement does not exist. Two proofs that the functions' default avoids this:

1. in one session: after every function's queries ran many times, `pg_prepared_statements` of the
   pool's only connection is empty (and it is not, with prepared statements switched on);
2. through PgBouncer in transaction mode, resetting each server session after every transaction: the
   same traffic succeeds (and, with prepared statements on, a query fails on the missing statement).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import functions_framework
import httpx
import psycopg
import pytest
from flask.testing import FlaskClient

from canvasgen import jobs
from canvasgen.config import Settings
from canvasgen.database import Database
from canvasgen.routes import FUNCTIONS
from canvasgen.services import Services, use_services
from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from tests.database.conftest import Bouncer
from tests.support import ALICE_ID, Conn, create_canvas

MAIN = str(PROJECT_ROOT / "functions" / "main.py")
FAL = "http://127.0.0.1:9/fal"
# More rounds than psycopg's default prepare_threshold, so every query would have been prepared.
ROUNDS = 8


def fal_queue(request: httpx.Request) -> httpx.Response:
    """Answer as fal's queue does: accept every job, cancel every job."""
    if request.method == "PUT":
        return httpx.Response(202, json={"status": "CANCELLATION_REQUESTED"})
    request_id = str(uuid.uuid4())
    urls = {name: f"{FAL}/requests/{request_id}/{name}" for name in ("status", "response", "cancel")}
    return httpx.Response(
        200,
        json={
            "request_id": request_id,
            "status_url": urls["status"],
            "response_url": urls["response"],
            "cancel_url": urls["cancel"],
        },
    )


def functions_settings(database_url: str, stack: StackSettings, **overrides: Any) -> Settings:
    """Return the functions' settings on this database, with one pooled connection."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "database_pool_size": 1,
        "jwt_secret": stack.jwt_secret,
        "fal_key": "pooler-test:key",
        "fal_queue_url": FAL,
        "webhook_url": "http://127.0.0.1:9/fal-webhook",
        "storage_endpoint_url": "http://127.0.0.1:9",
        "storage_access_key_id": "S3RVER",
        "storage_secret_access_key": "S3RVER",
        "storage_bucket": "media",
        "media_public_base_url": "http://127.0.0.1:9/media",
        **overrides,
    }
    return Settings(**values)


class Functions:
    """The entry points in process, sharing one `Services` whose provider is `fal_queue`."""

    def __init__(self, settings: Settings, token: str) -> None:
        self.services = Services(settings, http=httpx.Client(transport=httpx.MockTransport(fal_queue)))
        self.headers = {"Authorization": f"Bearer {token}"}
        use_services(self.services)
        self.clients: dict[str, FlaskClient] = {
            name: functions_framework.create_app(target=entry, source=MAIN).test_client()  # type: ignore[no-untyped-call]
            for name, entry in FUNCTIONS.items()
        }

    def call(self, name: str, body: dict[str, Any] | None = None, **query: str) -> Any:
        client = self.clients[name]
        if body is None:
            response = client.get("/", query_string=query, headers=self.headers)
        else:
            response = client.post("/", data=json.dumps(body), headers=self.headers)
        assert response.status_code < 300, response.get_data(as_text=True)
        return response.get_json()

    def generations(self, project_id: str, rounds: int = ROUNDS) -> None:
        """Per node: submit, read the canvas, cancel, read it again and save it back."""
        for index in range(1, rounds + 1):
            node = {"projectId": project_id, "nodeId": f"video-{index}"}
            self.call("submit", {**node, "model": "kling-v2.5-turbo-pro", "prompt": "a harbour at dusk"})
            self.call("project", id=project_id)
            self.call("cancel", node)
            canvas = self.call("project", id=project_id)
            save = {"projectId": project_id, "content": canvas["content"], "baseVersion": canvas["version"]}
            self.call("save", save)

    def prepared_statements(self) -> list[str]:
        """Return the named statements of the pool's one server session."""
        with self.services.database.transaction() as conn:
            rows = conn.execute("select name from pg_prepared_statements").fetchall()
        return [row["name"] for row in rows]

    def close(self) -> None:
        use_services(None)
        self.services.close()


@pytest.fixture
def functions(stack_settings: StackSettings) -> Iterator[Any]:
    """A factory of in-process functions on a chosen database URL and settings."""
    built: list[Functions] = []

    def make(database_url: str, **overrides: Any) -> Functions:
        token = stack_settings.user_token(ALICE_ID, "alice@example.com")
        built.append(Functions(functions_settings(database_url, stack_settings, **overrides), token))
        return built[-1]

    yield make
    for made in built:
        made.close()


def canvas(db: Conn) -> str:
    return create_canvas(db, ALICE_ID, video_nodes=ROUNDS, image_nodes=0).id


def test_default_creates_no_prepared_statement(database: str, db: Conn, functions: Any) -> None:
    """By default, repeated submit/project/cancel/save leave no named statement in the session."""
    made = functions(database)
    made.generations(canvas(db))
    assert made.prepared_statements() == []


def test_prepared_statements_would_be_visible(database: str, db: Conn, functions: Any) -> None:
    """The check above can fail: with prepared statements on, the same traffic leaves named statements."""
    made = functions(database, database_prepared_statements=True)
    made.generations(canvas(db))
    assert made.prepared_statements() != []


def test_functions_work_through_a_transaction_pooler(pgbouncer: Bouncer, db: Conn, functions: Any) -> None:
    """Through PgBouncer in transaction mode, resetting sessions, every call of the story succeeds."""
    project_id = canvas(db)
    functions(pgbouncer.url).generations(project_id)
    statuses = db.execute(
        "select status::text as status, count(*) as n from public.generation_jobs where project_id = %s"
        " group by status",
        (project_id,),
    ).fetchall()
    assert [(row["status"], row["n"]) for row in statuses] == [("cancelled", ROUNDS)]


def test_prepared_statements_break_behind_the_pooler(pgbouncer: Bouncer) -> None:
    """The pooler check can fail: a prepared statement is gone in the next transaction's session."""
    settings = functions_settings(pgbouncer.url, StackSettings(), database_prepared_statements=True)
    database = Database(settings)
    try:
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            for _ in range(ROUNDS):
                with database.transaction() as conn:
                    jobs.get(conn, UUID(int=0))
    finally:
        database.close()
