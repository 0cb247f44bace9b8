"""fal's webhook: verify the delivery, store the media, and finish the job and its node once.

Every delivery may come again (fal retries for two hours), late, or for a job that is no longer its
node's current generation. The job row is locked while it is finished, and final jobs never change,
so a repeated delivery answers 200 and changes nothing; only the node's current job writes the node.
Media is stored before the node is touched, under a key fixed per job, so a retry overwrites the
same object and the node never points at a missing one. Transient failures answer 5xx for fal to retry.
"""

from __future__ import annotations

import json
from typing import Any, Literal
from uuid import UUID

from pydantic import ValidationError
from werkzeug.datastructures import Headers

from canvasgen import jobs, logs, nodes, registry
from canvasgen.database import Connection
from canvasgen.errors import InvalidRequest, MediaRefused, Unavailable
from canvasgen.jobs import Job
from canvasgen.media import download
from canvasgen.models import FalWebhook, WebhookAnswer
from canvasgen.services import Services

log = logs.get_logger("webhooks")
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


def receive(services: Services, body: bytes, headers: Headers, job_ref: str | None) -> WebhookAnswer:
    """Handle one signed delivery from fal."""
    services.webhooks.verify(headers, body)
    delivery = _parse(body)
    logs.bind(requestId=delivery.request_id)
    job = _find_job(services, job_ref, delivery)
    if job is None:
        log.warning("webhook for an unknown request; acknowledged so fal stops retrying")
        return WebhookAnswer(outcome="unknown")
    logs.bind(jobId=str(job.id), projectId=str(job.project_id), nodeId=job.node_id)
    log.info("webhook verified", extra={"deliveryStatus": delivery.status, "jobStatus": job.status})
    if job.is_final and not (job.status == "cancelled" and job.result is None):
        log.info("repeated delivery for a finished job; nothing to do")
        return WebhookAnswer(outcome="duplicate", job_id=job.id)
    if delivery.status == "ERROR":
        return _finish(services, job, delivery.request_id, error=_provider_error(delivery))
    return _complete(services, job, delivery)


def _parse(body: bytes) -> FalWebhook:
    try:
        return FalWebhook.model_validate(json.loads(body))
    except (ValueError, ValidationError) as exc:
        msg = "the webhook body is not a fal delivery"
        raise InvalidRequest(msg, code="invalid_webhook") from exc


def _find_job(services: Services, job_ref: str | None, delivery: FalWebhook) -> Job | None:
    known_ids = {delivery.request_id, delivery.gateway_request_id}
    with services.database.transaction() as conn:
        if job_ref:
            try:
                job = jobs.get(conn, UUID(job_ref))
            except ValueError:
                job = None
            if job is not None and (job.request_id is None or job.request_id in known_ids):
                return job
        return jobs.find_by_request_id(conn, delivery.request_id)


def _provider_error(delivery: FalWebhook) -> dict[str, str]:
    message = str(delivery.error or delivery.payload_error or "the model failed")
    detail = delivery.payload.get("detail") if isinstance(delivery.payload, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict) and detail[0].get("msg"):
        message = f"{message}: {detail[0]['msg']}"
    elif isinstance(detail, str):
        message = f"{message}: {detail}"
    return {"code": "generation_failed", "message": message[:1000]}


def _complete(services: Services, job: Job, delivery: FalWebhook) -> WebhookAnswer:
    kind = registry.resolve(job.model).kind
    output = delivery.payload if _media_of(delivery.payload, kind) else None
    if output is None:
        if job.response_url is None:
            msg = "the result is not in the delivery and the job has no result URL yet"
            raise Unavailable(msg, code="result_not_ready")
        log.info("payload missing from the delivery; fetching the result")
        output = services.provider.result(job.response_url)
    media = _media_of(output, kind)
    if media is None:
        return _finish(
            services,
            job,
            delivery.request_id,
            error={"code": "no_media", "message": "the provider's result has no media"},
        )
    try:
        generated = _store(services, job, media, kind)
    except MediaRefused as exc:
        log.warning("media refused", extra={"errorCode": exc.code, "error": exc.message})
        return _finish(services, job, delivery.request_id, error={"code": exc.code, "message": exc.message})
    return _finish(services, job, delivery.request_id, result=output, generated=generated)


def _media_of(output: Any, kind: str) -> dict[str, Any] | None:
    if not isinstance(output, dict):
        return None
    media = output.get("video") if kind == "video" else next(iter(output.get("images") or []), None)
    if isinstance(media, dict) and isinstance(media.get("url"), str) and media["url"]:
        return media
    return None


def _store(services: Services, job: Job, media: dict[str, Any], kind: str) -> dict[str, str]:
    settings = services.settings
    with download(media["url"], settings, services.http) as stream:
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
    request_id: str,
    *,
    result: Any = None,
    generated: dict[str, str] | None = None,
    error: dict[str, str] | None = None,
) -> WebhookAnswer:
    stored = {**(result if isinstance(result, dict) else {}), "generated": generated} if generated else None
    with services.database.transaction() as conn:
        locked = jobs.lock(conn, job.id)
        assert locked is not None
        if locked.request_id is None:
            jobs.bind_request_id(conn, locked.id, request_id)
        if locked.is_final:
            return _finish_late(conn, locked, stored)
        touched = jobs.is_current(conn, locked) and _write_node(conn, locked, generated, error)
        jobs.finish(conn, locked.id, "completed" if generated else "failed", result=stored, error=error)
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
