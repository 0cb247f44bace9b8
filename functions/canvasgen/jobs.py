"""Generation jobs: one row per provider request, from `submitting` to a final status.

    submitting ──provider accepted──▶ pending ──▶ completed | failed | cancelled

A job is its node's current generation when no newer job exists for that node; only the current
job may write to the node. Final statuses never change again, which makes repeated webhooks harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from canvasgen.database import Connection
from canvasgen.errors import Conflict

# Failures declared by us for want of news from the provider: a result that turns up later still counts.
REVIVABLE_ERRORS = frozenset({"lost", "timeout"})
COLUMNS = (
    "id, seq, project_id, node_id, user_id, model, endpoint, input, request_id, status_url, response_url,"
    " cancel_url, status::text as status, result, error, created_at, queue_position"
)


@dataclass(frozen=True)
class Job:
    """One row of `public.generation_jobs`."""

    id: UUID
    seq: int
    project_id: UUID
    node_id: str
    user_id: UUID
    model: str
    endpoint: str
    input: dict[str, Any]
    request_id: str | None
    status_url: str | None
    response_url: str | None
    cancel_url: str | None
    status: str
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    created_at: datetime
    queue_position: int | None

    @property
    def is_live(self) -> bool:
        return self.status in ("submitting", "pending")

    @property
    def accepts_result(self) -> bool:
        """Tell whether a result may still complete this job (live, or failed only for want of news)."""
        revivable = self.status == "failed" and (self.error or {}).get("code") in REVIVABLE_ERRORS
        return self.is_live or revivable


@dataclass(frozen=True)
class Submission:
    """What the provider answered when it accepted a job."""

    request_id: str
    status_url: str
    response_url: str
    cancel_url: str


def create(
    conn: Connection,
    *,
    project_id: UUID,
    node_id: str,
    user_id: UUID,
    model: str,
    endpoint: str,
    input: dict[str, Any],
) -> Job:
    """Insert a job in `submitting`; refuse when the node already has a live generation."""
    try:
        with conn.transaction():
            row = conn.execute(
                "insert into public.generation_jobs (project_id, node_id, user_id, model, endpoint, input)"
                f" values (%s, %s, %s, %s, %s, %s) returning {COLUMNS}",
                (project_id, node_id, user_id, model, endpoint, Jsonb(input)),
            ).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        msg = "this node already has a generation in progress"
        raise Conflict(msg, code="generation_in_progress") from exc
    assert row is not None
    return Job(**row)


def lock(conn: Connection, job_id: UUID) -> Job | None:
    """Return the job, holding its row lock until the transaction ends."""
    row = conn.execute(f"select {COLUMNS} from public.generation_jobs where id = %s for update", (job_id,))
    found = row.fetchone()
    return Job(**found) if found else None


def get(conn: Connection, job_id: UUID) -> Job | None:
    """Return a job by id."""
    found = conn.execute(f"select {COLUMNS} from public.generation_jobs where id = %s", (job_id,)).fetchone()
    return Job(**found) if found else None


def find_by_request_id(conn: Connection, request_id: str) -> Job | None:
    """Return the job of a provider request id."""
    row = conn.execute(f"select {COLUMNS} from public.generation_jobs where request_id = %s", (request_id,))
    found = row.fetchone()
    return Job(**found) if found else None


def record_submission(conn: Connection, job_id: UUID, submission: Submission) -> str:
    """Store the provider's request id and URLs; move `submitting` to `pending`; return the status."""
    row = conn.execute(
        "update public.generation_jobs set request_id = coalesce(request_id, %s), status_url = %s,"
        " response_url = %s, cancel_url = %s,"
        " status = case when status = 'submitting' then 'pending' else status end"
        " where id = %s returning status::text as status",
        (
            submission.request_id,
            submission.status_url,
            submission.response_url,
            submission.cancel_url,
            job_id,
        ),
    ).fetchone()
    assert row is not None
    return str(row["status"])


def bind_request_id(conn: Connection, job_id: UUID, request_id: str) -> None:
    """Attach the provider's request id to a job that has none yet (a webhook that beat submit)."""
    conn.execute(
        "update public.generation_jobs set request_id = %s where id = %s and request_id is null",
        (request_id, job_id),
    )


def finish(
    conn: Connection,
    job_id: UUID,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None,
) -> None:
    """Put a job in a final status with its result or error."""
    conn.execute(
        "update public.generation_jobs set status = %s::public.generation_status, result = %s, error = %s,"
        " finished_at = now() where id = %s",
        (
            status,
            Jsonb(result) if result is not None else None,
            Jsonb(error) if error is not None else None,
            job_id,
        ),
    )


def record_result(conn: Connection, job_id: UUID, result: dict[str, Any]) -> None:
    """Keep a result that arrived after the job ended, without changing its status."""
    conn.execute("update public.generation_jobs set result = %s where id = %s", (Jsonb(result), job_id))


def is_current(conn: Connection, job: Job) -> bool:
    """Tell whether no newer job exists for the job's node."""
    row = conn.execute(
        "select not exists (select 1 from public.generation_jobs where project_id = %s and node_id = %s"
        " and seq > %s) as current",
        (job.project_id, job.node_id, job.seq),
    ).fetchone()
    return bool(row and row["current"])


def claim_live(conn: Connection, limit: int, lease_seconds: float) -> list[Job]:
    """Claim live jobs that no other reconciler checked within the lease; skip rows locked elsewhere."""
    claimed = conn.execute(
        "with claimed as (select id from public.generation_jobs where status in ('submitting', 'pending')"
        " and (checked_at is null or checked_at < now() - make_interval(secs => %s))"
        " order by created_at limit %s for update skip locked)"
        " update public.generation_jobs j set checked_at = now() from claimed where j.id = claimed.id"
        " returning j.id",
        (lease_seconds, limit),
    ).fetchall()
    ids = [row["id"] for row in claimed]
    rows = conn.execute(
        f"select {COLUMNS} from public.generation_jobs where id = any(%s) order by created_at", (ids,)
    ).fetchall()
    return [Job(**row) for row in rows]


def set_queue_position(conn: Connection, job_id: UUID, position: int | None) -> bool:
    """Store the provider's queue position if it changed; return whether it did."""
    row = conn.execute(
        "update public.generation_jobs set queue_position = %s where id = %s and status = 'pending'"
        " and queue_position is distinct from %s returning id",
        (position, job_id, position),
    ).fetchone()
    return row is not None


def live_for_nodes(conn: Connection, project_id: UUID, node_ids: list[str]) -> list[Job]:
    """Return the live jobs of some nodes of a project, locked."""
    rows = conn.execute(
        f"select {COLUMNS} from public.generation_jobs where project_id = %s and node_id = any(%s)"
        " and status in ('submitting', 'pending') for update",
        (project_id, node_ids),
    ).fetchall()
    return [Job(**row) for row in rows]
