"""Starting a generation: the node's pending state is durable before the provider can call back.

1. One transaction inserts the job (`submitting`) and marks the node pending. The unique index on
   live jobs turns a second submit for the same node into 409, before any provider call.
2. The provider is called with a webhook URL that carries our job id, so a webhook that arrives
   before step 3 still finds its job, and a crash between 2 and 3 leaves a job that the webhook (or
   reconciliation) completes.
3. A second transaction stores the request id and URLs and adds `requestId` to the node.
A refused or unreachable provider fails the job and the node, so no node is left loading.
"""

from __future__ import annotations

from urllib.parse import urlencode

from canvasgen import jobs, logs, nodes, projects, registry
from canvasgen.auth import Caller
from canvasgen.errors import CanvasgenError, NotFound
from canvasgen.models import SubmitAccepted, SubmitRequest
from canvasgen.services import Services

log = logs.get_logger("generations")


def submit(services: Services, caller: Caller, request: SubmitRequest) -> SubmitAccepted:
    """Start a generation for one node and leave the node pending."""
    assert caller.user_id is not None
    model = registry.resolve(request.model)
    call = model.call_for(request)
    logs.bind(projectId=str(request.project_id), nodeId=request.node_id, model=model.id)
    with services.database.transaction() as conn:
        project = projects.get_owned(conn, request.project_id, caller.user_id)
        if nodes.find(project.content, request.node_id) is None:
            msg = "node not found in this project"
            raise NotFound(msg, code="node_not_found")
        job = jobs.create(
            conn,
            project_id=project.id,
            node_id=request.node_id,
            user_id=caller.user_id,
            model=model.id,
            endpoint=call.endpoint,
            input=call.input,
        )
        nodes.patch(conn, project.id, request.node_id, nodes.pending_state(), ("error",))
    logs.bind(jobId=str(job.id))
    log.info("loading state saved", extra={"endpoint": call.endpoint})
    webhook_url = f"{services.settings.webhook_url}?{urlencode({'job': str(job.id)})}"
    try:
        submission = services.provider.submit(call.endpoint, call.input, webhook_url)
    except CanvasgenError as exc:
        _fail(services, job, exc)
        raise
    logs.bind(requestId=submission.request_id)
    log.info("submitted to provider")
    with services.database.transaction() as conn:
        status = jobs.record_submission(conn, job.id, submission)
        if status == "pending":
            nodes.patch(
                conn,
                job.project_id,
                job.node_id,
                {"requestId": submission.request_id, "updatedAt": nodes.now_iso()},
            )
    log.info("request id saved", extra={"jobStatus": status})
    return SubmitAccepted(request_id=submission.request_id, job_id=job.id, status=status)


def _fail(services: Services, job: jobs.Job, exc: CanvasgenError) -> None:
    log.warning("provider refused the job", extra={"errorCode": exc.code, "error": exc.message})
    error = {"code": exc.code, "message": exc.message}
    with services.database.transaction() as conn:
        jobs.finish(conn, job.id, "failed", error=error)
        keys, remove = nodes.failed_state(exc.code, exc.message)
        nodes.patch(conn, job.project_id, job.node_id, keys, remove)
