"""Recovery of generations that never heard back: lost webhooks, crashes, providers that go quiet.

A scheduler calls `reconcile` every minute. Each live job is claimed by one reconciler at a time
(`FOR UPDATE SKIP LOCKED` plus a short lease), and any result is applied through `completion`, the same
path as the webhook, so a job is finished exactly once whoever gets there first.

    job older than the threshold, provider says COMPLETED  → fetch the result, complete as the webhook would
    provider reports the model failed                       → fail (generation_failed)
    provider does not know the job, or no request id stored → fail (lost)
    still live past the hard timeout                        → cancel at the provider, fail (timeout)
    still queued                                            → node `queuePosition`, written only on change
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from canvasgen import completion, jobs, logs, nodes
from canvasgen.errors import CanvasgenError, ProviderRejected
from canvasgen.jobs import Job
from canvasgen.models import ReconcileReport, WebhookAnswer
from canvasgen.provider import ProviderStatus
from canvasgen.services import Services

log = logs.get_logger("reconciliation")
# "settled": someone else (usually the webhook) finished the job first.
Outcome = Literal["completed", "failed", "stillPending", "settled"]


def reconcile(services: Services) -> ReconcileReport:
    """Check every claimable live job once and report what became of them."""
    settings = services.settings
    with services.database.transaction() as conn:
        claimed = jobs.claim_live(conn, settings.reconcile_batch_size, settings.reconcile_lease_seconds)
    tally = {"completed": 0, "failed": 0, "stillPending": 0, "settled": 0}
    for job in claimed:
        with logs.context(
            jobId=str(job.id), projectId=str(job.project_id), nodeId=job.node_id, requestId=job.request_id
        ):
            tally[_check_safely(services, job)] += 1
    log.info("reconciled", extra={"checked": len(claimed), **tally})
    return ReconcileReport(
        checked=len(claimed),
        completed=tally["completed"],
        failed=tally["failed"],
        still_pending=tally["stillPending"],
    )


def _check_safely(services: Services, job: Job) -> Outcome:
    try:
        return _check(services, job)
    except CanvasgenError as exc:
        log.warning("job left for the next round", extra={"errorCode": exc.code, "error": exc.message})
        return "stillPending"


def _check(services: Services, job: Job) -> Outcome:
    age = (datetime.now(UTC) - job.created_at).total_seconds()
    due = age >= services.settings.reconcile_after_seconds
    if job.status_url is None:
        if not due:
            return "stillPending"
        return _fail(services, job, "lost", "the provider's answer to submit was never recorded")
    status = services.provider.status(job.status_url)
    if status.status == "COMPLETED" and due:
        return _apply_result(services, job, status)
    if status.status == "NOT_FOUND" and due:
        return _fail(services, job, "lost", "the provider does not know this generation")
    if age >= services.settings.job_timeout_seconds:
        _cancel_quietly(services, job)
        return _fail(services, job, "timeout", "the generation took longer than allowed")
    _record_progress(services, job, status)
    return "stillPending"


def _apply_result(services: Services, job: Job, status: ProviderStatus) -> Outcome:
    if status.error:
        return _fail(services, job, "generation_failed", status.error)
    assert job.response_url is not None
    try:
        output = services.provider.result(job.response_url)
    except ProviderRejected as exc:
        return _fail(services, job, "generation_failed", exc.message)
    log.info("result fetched by reconciliation")
    return _outcome(completion.complete(services, job, job.request_id or "", output))


def _fail(services: Services, job: Job, code: str, message: str) -> Outcome:
    log.warning("generation failed by reconciliation", extra={"errorCode": code})
    return _outcome(completion.fail(services, job, job.request_id, {"code": code, "message": message}))


def _outcome(answer: WebhookAnswer) -> Outcome:
    if answer.outcome in ("completed", "failed"):
        return answer.outcome
    return "settled"


def _cancel_quietly(services: Services, job: Job) -> None:
    if job.cancel_url is None:
        return
    try:
        services.provider.cancel(job.cancel_url)
    except CanvasgenError as exc:
        log.info("provider cancel failed; failing the job anyway", extra={"error": exc.message})


def _record_progress(services: Services, job: Job, status: ProviderStatus) -> None:
    position = status.queue_position if status.status == "IN_QUEUE" else None
    with services.database.transaction() as conn:
        if not jobs.set_queue_position(conn, job.id, position) or not jobs.is_current(conn, job):
            return
        if position is None:
            nodes.patch(conn, job.project_id, job.node_id, {}, ("queuePosition",))
        else:
            nodes.patch(conn, job.project_id, job.node_id, {"queuePosition": position})
    log.info("queue position updated", extra={"queuePosition": position})
