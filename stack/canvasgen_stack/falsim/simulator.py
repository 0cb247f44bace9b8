"""The simulator core: drives each job from submit through rendering to webhook delivery."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

import httpx

from canvasgen_stack.falsim import catalog
from canvasgen_stack.falsim.config import FalSimConfig
from canvasgen_stack.falsim.delivery import Deliverer
from canvasgen_stack.falsim.faults import Faults
from canvasgen_stack.falsim.media import Renderer, RenderError
from canvasgen_stack.falsim.queue import Job, JobError, JobStore, MediaFile, State
from canvasgen_stack.falsim.signing import load_signer

logger = logging.getLogger(__name__)
MODEL_FAILURE = "The model could not generate an output for this input."


class Simulator:
    """Owns the job store, the renderer, the signer and every background task."""

    def __init__(self, config: FalSimConfig) -> None:
        self.config = config
        # Jobs live in memory only, so media left by an earlier run can never be served again.
        self._clear_media()
        self.store = JobStore()
        self.signer = load_signer(config.key_file)
        # trust_env off: proxy variables must never divert loopback deliveries.
        self.client = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        self.deliverer = Deliverer(self.signer, self.client, config.webhook_user_id, config.delivery_timeout)
        self.renderer = Renderer(
            config.ffmpeg, config.font_file, config.render_concurrency, config.render_timeout
        )
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def submit(
        self,
        model_path: str,
        arguments: dict[str, Any],
        prompt_text: str,
        webhook_url: str | None,
        faults: Faults,
    ) -> Job:
        """Queue a job and start driving it through its life."""
        job = self.store.create(model_path, arguments, prompt_text, webhook_url, faults)
        logger.info("submitted", extra={"data": {"request_id": job.request_id, "model": model_path}})
        if faults.forget:
            job.move(State.FORGOTTEN)
        else:
            self._runs[job.request_id] = self.spawn(self._run(job))
        return job

    def cancel(self, job: Job) -> bool:
        """Request cancellation; False when the job had already finished."""
        if job.finished:
            return False
        if job.faults.ignore_cancel:
            job.log("Cancellation requested; the request keeps running.", "WARN")
            return True
        job.move(State.CANCELLED)
        job.log("Request cancelled by the client.", "WARN")
        run = self._runs.pop(job.request_id, None)
        if run is not None:
            run.cancel()
        return True

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine in the background, tracked so reset and shutdown can stop it."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._forget_task)
        return task

    def _forget_task(self, task: asyncio.Task[Any]) -> None:
        """Drop a finished task and log any exception it died with."""
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task failed", exc_info=task.exception())

    async def reset(self) -> None:
        """Stop all work, forget every job, clear global faults and delete rendered media."""
        await self._stop_tasks()
        self._runs.clear()
        self.store.clear()
        self._clear_media()

    def _clear_media(self) -> None:
        """Delete every rendered file, creating the media directory if needed."""
        self.config.media_dir.mkdir(parents=True, exist_ok=True)
        for path in self.config.media_dir.iterdir():
            if path.is_file():
                path.unlink(missing_ok=True)

    async def close(self) -> None:
        """Stop all work and release the HTTP client."""
        await self._stop_tasks()
        await self.client.aclose()

    async def _stop_tasks(self) -> None:
        """Cancel every background task and wait until they are gone."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _run(self, job: Job) -> None:
        """Queue, process, finish, then deliver the webhook."""
        queued = job.faults.queued
        await asyncio.sleep(self.config.queue_delay if queued is None else queued)
        job.move(State.IN_PROGRESS)
        job.log("Processing request.")
        if job.faults.never_complete:
            await asyncio.Event().wait()
        await asyncio.sleep(self.config.processing_delay)
        try:
            job.complete(await self._produce(job))
        except catalog.InputError as error:
            job.fail(JobError(422, {"detail": error.detail}, str(error), "validation_error"))
        except RenderError as error:
            logger.error("render failed", extra={"data": {"request_id": job.request_id, "error": str(error)}})
            body = {"detail": "Internal server error", "error_type": "runner_server_error"}
            job.fail(JobError(500, body, "Internal server error", "runner_server_error"))
        self._runs.pop(job.request_id, None)
        job.log("Request finished.")
        logger.info("finished", extra={"data": {"request_id": job.request_id, "state": job.state.value}})
        await self.deliverer.deliver(job, self.config.retry_delays)

    async def _produce(self, job: Job) -> dict[str, Any]:
        """Validate the input, render the media and build the model output."""
        if job.faults.model_error:
            raise catalog.InputError("prompt", MODEL_FAILURE, "generation_error")
        if catalog.is_video_model(job.model_path):
            video = catalog.video_spec(job.model_path, job.arguments)
            name = f"{job.request_id}.mp4"
            rendered = await self.renderer.video(
                self.config.media_dir / name, job.prompt_text, video.aspect_ratio, video.seconds
            )
            return catalog.video_output(self._publish(job, name, "video/mp4", rendered.size))
        image = catalog.image_spec(job.arguments)
        images = []
        for index in range(image.count):
            name = f"{job.request_id}.png" if index == 0 else f"{job.request_id}_{index}.png"
            path = self.config.media_dir / name
            rendered = await self.renderer.image(path, job.prompt_text, image.width, image.height, image.seed)
            file = self._publish(job, name, "image/png", rendered.size)
            images.append(file | {"width": image.width, "height": image.height})
        inference = job.inference_time
        return catalog.image_output(images, image, catalog.read_prompt(job.arguments), inference)

    def _publish(self, job: Job, name: str, content_type: str, size: int) -> dict[str, Any]:
        """Register a rendered file for serving and return its fal File object."""
        served = job.faults.large_media or size
        job.media[name] = MediaFile(name, self.config.media_dir / name, content_type, size, served)
        url = f"{self.config.base_url}/media/{name}"
        return catalog.file_object(url, content_type, name, served)
