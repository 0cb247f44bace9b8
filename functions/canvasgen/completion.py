"""Finishing a job, shared by the webhook and by reconciliation: store the media, then write the node once.

Media is stored before the node is touched, under a key fixed per job, so a retry overwrites the same
object and the node never points at a missing one. The job row is locked while it is finished, and a
finished job never changes again (except that a job failed as lost or timed out still takes a result
that turns up late), so whoever comes second changes nothing. Only the node's current job writes it.
"""

from __future__ import annotations

from typing import Any, Literal

from canvasgen import jobs, logs, nodes, registry
from canvasgen.database import Connection
from canvasgen.errors import MediaRefused
from canvasgen.jobs import Job
from canvasgen.media import download
from canvasgen.models import WebhookAnswer
from canvasgen.services import Services

log = logs.get_logger("completion")
EXTENSIONS = {
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
}
DEFAULT_TYPES = {"video": "video/mp4", "image": "image/png"}


def media_of(output: Any, model: str) -> dict[str, Any] | None:
    """Return the media entry of a model's output (`video`, or the first of `images`)."""
    if not isinstance(output, dict):
        return None
    kind = registry.resolve(model).kind
    media = output.get("video") if kind == "video" else next(iter(output.get("images") or []), None)
    if isinstance(media, dict) and isinstance(media.get("url"), str) and media["url"]:
        return media
    return None


def complete(services: Services, job: Job, request_id: str, output: Any) -> WebhookAnswer:
    """Store the output's media and complete the job (or fail it when the media is refused)."""
    media = media_of(output, job.model)
    if media is None:
        return fail(
            services, job, request_id, {"code": "no_media", "message": "the provider's result has no media"}
        )
    try:
        generated = _store(services, job, media)
    except MediaRefused as exc:
        log.warning("media refused", extra={"errorCode": exc.code, "error": exc.message})
        return fail(services, job, request_id, {"code": exc.code, "message": exc.message})
    return _finish(services, job, request_id, result={**output, "generated": generated}, generated=generated)


def fail(services: Services, job: Job, request_id: str | None, error: dict[str, str]) -> WebhookAnswer:
    """Fail the job and, if it is still the node's current one, the node."""
    return _finish(services, job, request_id, error=error)


def _store(services: Services, job: Job, media: dict[str, Any]) -> dict[str, str]:
    kind = registry.resolve(job.model).kind
    with download(media["url"], services.settings, services.http) as stream:
        media_type = _media_type(media.get("content_type"), stream.content_type, kind)
        key = f"generations/{job.project_id}/{job.id}.{EXTENSIONS.get(media_type, 'bin')}"
        services.store.upload(key, stream, media_type)
    log.info("media uploaded", extra={"key": key, "bytes": stream.received, "contentType": media_type})
    return {"url": services.store.public_url(key), "type": media_type}


def _media_type(declared: Any, served: str | None, kind: str) -> str:
    for candidate in (declared, served):
        if isinstance(candidate, str) and candidate.split("/")[0] in ("video", "image"):
            return candidate.lower()
    return DEFAULT_TYPES[kind]


def _finish(
    services: Services,
    job: Job,
    request_id: str | None,
    *,
    result: dict[str, Any] | None = None,
    generated: dict[str, str] | None = None,
    error: dict[str, str] | None = None,
) -> WebhookAnswer:
    with services.database.transaction() as conn:
        locked = jobs.lock(conn, job.id)
        assert locked is not None
        if locked.request_id is None and request_id:
            jobs.bind_request_id(conn, locked.id, request_id)
        if not (locked.accepts_result if generated else locked.is_live):
            return _finish_late(conn, locked, result)
        touched = jobs.is_current(conn, locked) and _write_node(conn, locked, generated, error)
        jobs.finish(conn, locked.id, "completed" if generated else "failed", result=result, error=error)
    outcome: Literal["completed", "failed"] = "completed" if generated else "failed"
    log.info(
        "node updated" if touched else "job finished; its node is no longer current, left untouched",
        extra={"outcome": outcome},
    )
    return WebhookAnswer(outcome=outcome, job_id=job.id)


def _finish_late(conn: Connection, job: Job, result: dict[str, Any] | None) -> WebhookAnswer:
    if job.status == "cancelled" and job.result is None and result is not None:
        jobs.record_result(conn, job.id, result)
        log.info("result of a cancelled job recorded; node left untouched")
        return WebhookAnswer(outcome="recorded", job_id=job.id)
    log.info("job already finished; nothing to do", extra={"jobStatus": job.status})
    return WebhookAnswer(outcome="duplicate", job_id=job.id)


def _write_node(
    conn: Connection, job: Job, generated: dict[str, str] | None, error: dict[str, str] | None
) -> bool:
    if generated is not None:
        keys, remove = nodes.completed_state(generated["url"], generated["type"])
    else:
        assert error is not None
        keys, remove = nodes.failed_state(error["code"], error["message"])
    return nodes.patch(conn, job.project_id, job.node_id, keys, remove)
