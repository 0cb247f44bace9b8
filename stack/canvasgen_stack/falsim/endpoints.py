"""The fal queue REST API: submit, status, result, cancel, and the webhook JWKS."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from canvasgen_stack.falsim import errors
from canvasgen_stack.falsim.faults import Faults, FaultTagError, parse_prompt
from canvasgen_stack.falsim.loopback import loopback_url_problem
from canvasgen_stack.falsim.queue import Job, State
from canvasgen_stack.falsim.simulator import Simulator

RESERVED_OWNERS = frozenset({"_sim", "media", ".well-known"})
IN_PROGRESS = "Request is still in progress"


def _simulator(request: Request) -> Simulator:
    """Return the simulator serving this request."""
    simulator: Simulator = request.app.state.simulator
    return simulator


def queue_urls(base_url: str, job: Job) -> dict[str, str]:
    """Build the response/status/cancel URLs from owner/alias only, as fal does."""
    response_url = f"{base_url}/{job.app_id}/requests/{job.request_id}"
    return {
        "response_url": response_url,
        "status_url": f"{response_url}/status",
        "cancel_url": f"{response_url}/cancel",
    }


async def submit(request: Request) -> Response:
    """Queue a model request."""
    simulator = _simulator(request)
    model_path = request.path_params["model"].strip("/")
    segments = model_path.split("/")
    if len(segments) < 2 or "" in segments or segments[0] in RESERVED_OWNERS:
        return errors.detail("Application not found", 404)
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme != "Key" or not key.strip():
        return errors.detail("Missing or invalid credentials: expected 'Authorization: Key <FAL_KEY>'", 401)
    read = await _read_input(request)
    if isinstance(read, Response):
        return read
    arguments, prompt_text, tag_faults, webhook_url = read
    faults = simulator.store.faults.overridden_by(tag_faults)
    if faults.submit_status is not None:
        return errors.submit_failure(faults.submit_status)
    job = simulator.submit(model_path, arguments, prompt_text, webhook_url, faults)
    body: dict[str, Any] = {"request_id": job.request_id, "gateway_request_id": job.request_id}
    body |= queue_urls(simulator.config.base_url, job)
    body["queue_position"] = simulator.store.queue_position(job)
    if faults.submit_delay is not None:
        # The job is accepted (and will run and call back) before the caller hears so.
        await asyncio.sleep(faults.submit_delay)
    return JSONResponse(body)


async def _read_input(request: Request) -> tuple[dict[str, Any], str, Faults, str | None] | Response:
    """Read the model input, its prompt's fault tags and the webhook URL, or the 422 refusing them."""
    try:
        arguments = json.loads(await request.body())
    except ValueError:
        return errors.validation(["body"], "Request body is not valid JSON", "value_error.jsondecode")
    if not isinstance(arguments, dict):
        return errors.validation(["body"], "Request body must be a JSON object", "type_error.dict")
    webhook_url = request.query_params.get("fal_webhook")
    problem = loopback_url_problem(webhook_url) if webhook_url is not None else None
    if problem:
        return errors.validation(["query", "fal_webhook"], problem)
    try:
        prompt_text, tag_faults = _prompt_faults(arguments)
    except FaultTagError as error:
        return errors.validation(["body", "prompt"], f"fault tag: {error}")
    return arguments, prompt_text, tag_faults, webhook_url


def _prompt_faults(arguments: dict[str, Any]) -> tuple[str, Faults]:
    """Read the fault tags of the prompt, if the input has a text prompt."""
    prompt = arguments.get("prompt")
    return parse_prompt(prompt) if isinstance(prompt, str) else ("", Faults())


async def status(request: Request) -> Response:
    """Report where a request is in the queue."""
    simulator = _simulator(request)
    job = simulator.store.find(request.path_params["request_id"], request.path_params["app"])
    if job is None:
        return errors.detail("Request not found", 404)
    urls = queue_urls(simulator.config.base_url, job)
    body: dict[str, Any] = {"status": "COMPLETED" if job.finished else job.state.value}
    body["request_id"] = job.request_id
    if job.state is State.IN_QUEUE:
        body["queue_position"] = simulator.store.queue_position(job)
    else:
        body["logs"] = list(job.logs)
    if job.finished:
        body["metrics"] = {"inference_time": job.inference_time}
    if job.error is not None:
        body |= {"error": job.error.message, "error_type": job.error.error_type}
    elif job.state is State.CANCELLED:
        body |= {"error": "Request was cancelled", "error_type": "client_cancelled"}
    return JSONResponse(body | urls)


async def result(request: Request) -> Response:
    """Return the model output of a finished request."""
    job = _simulator(request).store.find(request.path_params["request_id"], request.path_params["app"])
    if job is None:
        return errors.detail("Request not found", 404)
    if job.state is State.COMPLETED and job.output is not None:
        return JSONResponse(job.output)
    if job.error is not None:
        return JSONResponse(job.error.body, status_code=job.error.http_status)
    if job.state is State.CANCELLED:
        body = {"detail": "Request was cancelled", "error_type": "client_cancelled"}
        return JSONResponse(body, status_code=400, headers={"X-Fal-Error-Type": "client_cancelled"})
    return errors.detail(IN_PROGRESS, 400)


async def cancel(request: Request) -> Response:
    """Cancel a request that has not finished yet."""
    simulator = _simulator(request)
    job = simulator.store.find(request.path_params["request_id"], request.path_params["app"])
    if job is None:
        return JSONResponse({"status": "NOT_FOUND"}, status_code=404)
    if not simulator.cancel(job):
        return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)
    return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)


async def jwks(request: Request) -> Response:
    """Publish the public key that webhook signatures verify against."""
    return JSONResponse(_simulator(request).signer.jwks())
