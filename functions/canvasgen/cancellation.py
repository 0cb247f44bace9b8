"""Cancelling a node's generation at the user's request.

The provider is asked first; only when it agrees (or the job never reached it, or it does not know the
job) does the job become `cancelled` and the node `status: "cancelled"`. A result that arrives later is
recorded on the job and never written to the node. A job the provider already finished answers 409, and
its result is put on the node right away rather than waiting for the webhook.
"""

from __future__ import annotations

from canvasgen import completion, jobs, logs, nodes, projects
from canvasgen.auth import Caller
from canvasgen.errors import CanvasgenError, Conflict, NotFound
from canvasgen.jobs import Job
from canvasgen.models import CancelAnswer, CancelRequest
from canvasgen.services import Services

log = logs.get_logger("cancellation")


def cancel(services: Services, caller: Caller, request: CancelRequest) -> CancelAnswer:
    """Cancel the node's live generation."""
    assert caller.user_id is not None
    logs.bind(projectId=str(request.project_id), nodeId=request.node_id)
    job = _live_job(services, caller, request)
    logs.bind(jobId=str(job.id), requestId=job.request_id)
    if job.cancel_url is not None:
        answer = services.provider.cancel(job.cancel_url)
        log.info("provider answered the cancel", extra={"providerStatus": answer})
        if answer == "ALREADY_COMPLETED":
            _show_result(services, job)
            msg = "the generation had already completed"
            raise Conflict(msg, code="already_completed")
    _mark_cancelled(services, job)
    return CancelAnswer(job_id=job.id, status="cancelled")


def _live_job(services: Services, caller: Caller, request: CancelRequest) -> Job:
    assert caller.user_id is not None
    with services.database.transaction() as conn:
        project = projects.get_owned(conn, request.project_id, caller.user_id)
        if nodes.find(project.content, request.node_id) is None:
            msg = "node not found in this project"
            raise NotFound(msg, code="node_not_found")
        live = jobs.live_for_nodes(conn, project.id, [request.node_id])
    if not live:
        msg = "the node has no generation in progress"
        raise Conflict(msg, code="not_cancellable")
    return live[0]


def _mark_cancelled(services: Services, job: Job) -> None:
    with services.database.transaction() as conn:
        locked = jobs.lock(conn, job.id)
        assert locked is not None
        if not locked.is_live:
            code = "already_completed" if locked.status == "completed" else "not_cancellable"
            msg = f"the generation is already {locked.status}"
            raise Conflict(msg, code=code)
        jobs.finish(conn, locked.id, "cancelled")
        if jobs.is_current(conn, locked):
            keys, remove = nodes.cancelled_state()
            nodes.patch(conn, locked.project_id, locked.node_id, keys, remove)
    log.info("generation cancelled")


def _show_result(services: Services, job: Job) -> None:
    if job.response_url is None:
        return
    try:
        output = services.provider.result(job.response_url)
        completion.complete(services, job, job.request_id or "", output)
    except CanvasgenError as exc:
        # The webhook or reconciliation will still deliver it; the 409 stands either way.
        log.warning("could not apply the finished result now", extra={"errorCode": exc.code})


def cancel_removed(services: Services, removed: list[Job]) -> None:
    """Ask the provider to stop jobs whose nodes were deleted (best effort; already cancelled here)."""
    for job in removed:
        if job.cancel_url is None:
            continue
        try:
            services.provider.cancel(job.cancel_url)
        except CanvasgenError as exc:
            log.info(
                "provider cancel for a deleted node failed",
                extra={"jobId": str(job.id), "error": exc.message},
            )
