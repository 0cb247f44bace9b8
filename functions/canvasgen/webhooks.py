"""fal's webhook: verify the delivery, find its job, and finish the job once.

Every delivery may come again (fal retries for two hours), late, or for a job that is no longer its
node's current generation; `completion` makes each of these harmless. Transient failures (storage,
database, media download) answer 5xx so fal retries; an unknown request answers 200 so it stops.
"""

from __future__ import annotations

import json
from uuid import UUID

from pydantic import ValidationError
from werkzeug.datastructures import Headers

from canvasgen import completion, jobs, logs
from canvasgen.errors import InvalidRequest, Unavailable
from canvasgen.jobs import Job
from canvasgen.models import FalWebhook, WebhookAnswer
from canvasgen.services import Services

log = logs.get_logger("webhooks")


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
    if not job.accepts_result and not (job.status == "cancelled" and job.result is None):
        log.info("repeated delivery for a finished job; nothing to do")
        return WebhookAnswer(outcome="duplicate", job_id=job.id)
    if delivery.status == "ERROR":
        return completion.fail(services, job, delivery.request_id, _provider_error(delivery))
    output = delivery.payload
    if completion.media_of(output, job.model) is None:
        output = _fetch_result(services, job)
    return completion.complete(services, job, delivery.request_id, output)


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


def _fetch_result(services: Services, job: Job) -> object:
    if job.response_url is None:
        msg = "the result is not in the delivery and the job has no result URL yet"
        raise Unavailable(msg, code="result_not_ready")
    log.info("payload missing from the delivery; fetching the result")
    return services.provider.result(job.response_url)


def _provider_error(delivery: FalWebhook) -> dict[str, str]:
    message = str(delivery.error or delivery.payload_error or "the model failed")
    detail = delivery.payload.get("detail") if isinstance(delivery.payload, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict) and detail[0].get("msg"):
        message = f"{message}: {detail[0]['msg']}"
    elif isinstance(detail, str):
        message = f"{message}: {detail}"
    return {"code": "generation_failed", "message": message[:1000]}
