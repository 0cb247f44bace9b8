"""Admin API under /_sim/: fault switches, job inspection, redelivery and reset."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from canvasgen_stack.falsim import errors
from canvasgen_stack.falsim.faults import Faults
from canvasgen_stack.falsim.queue import Job
from canvasgen_stack.falsim.simulator import Simulator


def _simulator(request: Request) -> Simulator:
    """Return the simulator serving this request."""
    simulator: Simulator = request.app.state.simulator
    return simulator


def summary(job: Job) -> dict[str, Any]:
    """Describe a job in one line's worth of fields."""
    return {
        "request_id": job.request_id,
        "model": job.model_path,
        "state": job.state.value,
        "submitted_at": job.submitted_at,
        "finished_at": job.finished_at,
        "webhook_url": job.webhook_url,
        "deliveries": len(job.attempts),
    }


def details(job: Job) -> dict[str, Any]:
    """Describe everything known about a job."""
    error = None
    if job.error is not None:
        error = {"http_status": job.error.http_status, "body": job.error.body, "message": job.error.message}
    return summary(job) | {
        "input": job.arguments,
        "prompt_text": job.prompt_text,
        "faults": job.faults.model_dump(exclude_defaults=True),
        "output": job.output,
        "error": error,
        "logs": job.logs,
        "media": [{"name": m.name, "size": m.size, "served_size": m.served_size} for m in job.media.values()],
        "attempts": job.attempts,
    }


async def get_faults(request: Request) -> Response:
    """Show the global fault switches."""
    return JSONResponse(_simulator(request).store.faults.model_dump())


async def put_faults(request: Request) -> Response:
    """Replace the global fault switches; fields left out are switched off."""
    simulator = _simulator(request)
    try:
        faults = Faults.model_validate(json.loads(await request.body() or b"{}"))
    except ValueError as error:
        problems = error.errors(include_url=False) if isinstance(error, ValidationError) else str(error)
        return JSONResponse({"detail": json.loads(json.dumps(problems, default=str))}, status_code=422)
    simulator.store.faults = faults
    return JSONResponse(faults.model_dump())


async def list_requests(request: Request) -> Response:
    """List every job, oldest first."""
    jobs = sorted(_simulator(request).store.jobs.values(), key=lambda job: job.sequence)
    return JSONResponse({"requests": [summary(job) for job in jobs]})


async def get_request(request: Request) -> Response:
    """Show one job, including forgotten ones, with its delivery attempts."""
    job = _simulator(request).store.jobs.get(request.path_params["request_id"])
    if job is None:
        return errors.detail("Request not found", 404)
    return JSONResponse(details(job))


async def deliver(request: Request) -> Response:
    """Deliver a finished job's webhook once more, now, and report the attempt."""
    simulator = _simulator(request)
    job = simulator.store.jobs.get(request.path_params["request_id"])
    if job is None:
        return errors.detail("Request not found", 404)
    if job.webhook_url is None:
        return errors.detail("Request has no webhook URL", 409)
    if job.output is None and job.error is None:
        return errors.detail("Request has no result to deliver", 409)
    delivery = max((attempt["delivery"] for attempt in job.attempts), default=0) + 1
    return JSONResponse(await simulator.deliverer.attempt(job, delivery, 1, "admin"))


async def reset(request: Request) -> Response:
    """Forget every job, clear the global faults and delete rendered media."""
    await _simulator(request).reset()
    return JSONResponse({"status": "reset"})


async def health(request: Request) -> Response:
    """Report that the simulator is up, with its base URL and job count."""
    simulator = _simulator(request)
    return JSONResponse(
        {"status": "ok", "base_url": simulator.config.base_url, "requests": len(simulator.store.jobs)}
    )


routes = [
    Route("/faults", get_faults, methods=["GET"]),
    Route("/faults", put_faults, methods=["PUT"]),
    Route("/requests", list_requests, methods=["GET"]),
    Route("/requests/{request_id}", get_request, methods=["GET"]),
    Route("/requests/{request_id}/deliver", deliver, methods=["POST"]),
    Route("/reset", reset, methods=["POST"]),
    Route("/health", health, methods=["GET"]),
]
