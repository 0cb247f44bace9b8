"""Jobs and their state machine, kept in memory."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from canvasgen_stack.falsim.faults import Faults


class State(StrEnum):
    """Where a job is in its life; FAILED and CANCELLED show as COMPLETED on the queue API."""

    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    FORGOTTEN = "FORGOTTEN"


FINISHED = frozenset({State.COMPLETED, State.FAILED, State.CANCELLED})
_NEXT = {
    State.IN_QUEUE: {State.IN_PROGRESS, State.FAILED, State.CANCELLED, State.FORGOTTEN},
    State.IN_PROGRESS: {State.COMPLETED, State.FAILED, State.CANCELLED},
}


class TransitionError(RuntimeError):
    """A job was asked to move to a state it cannot reach from where it is."""


@dataclass(frozen=True)
class JobError:
    """Why a job failed: the HTTP answer its result endpoint gives, and the status fields."""

    http_status: int
    body: dict[str, Any]
    message: str
    error_type: str


@dataclass(frozen=True)
class MediaFile:
    """A rendered file and the size it is served with (larger when padded by a fault)."""

    name: str
    path: Path
    content_type: str
    size: int
    served_size: int


@dataclass
class Job:
    """One queued request."""

    model_path: str
    arguments: dict[str, Any]
    prompt_text: str
    webhook_url: str | None
    faults: Faults
    sequence: int
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: State = State.IN_QUEUE
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    output: dict[str, Any] | None = None
    error: JobError | None = None
    logs: list[dict[str, str]] = field(default_factory=list)
    media: dict[str, MediaFile] = field(default_factory=dict)
    attempts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def app_id(self) -> str:
        """Return owner/alias, the part of the model path fal builds queue URLs from."""
        return "/".join(self.model_path.split("/")[:2])

    @property
    def finished(self) -> bool:
        """Tell whether the job reached a final state."""
        return self.state in FINISHED

    @property
    def inference_time(self) -> float:
        """Return how long the job was in progress."""
        if self.started_at is None:
            return 0.0
        return round((self.finished_at or time.time()) - self.started_at, 3)

    def log(self, message: str, level: str = "INFO") -> None:
        """Append a log line in fal's queue log format."""
        stamp = datetime.now(UTC).isoformat()
        self.logs.append({"message": message, "level": level, "source": "user", "timestamp": stamp})

    def move(self, state: State) -> None:
        """Move to state, refusing transitions the state machine does not allow."""
        if state not in _NEXT.get(self.state, set()):
            raise TransitionError(f"{self.request_id}: {self.state} cannot become {state}")
        self.state = state
        now = time.time()
        if state is State.IN_PROGRESS:
            self.started_at = now
        elif state in FINISHED:
            self.finished_at = now

    def complete(self, output: dict[str, Any]) -> None:
        """Finish successfully with output."""
        self.output = output
        self.move(State.COMPLETED)

    def fail(self, error: JobError) -> None:
        """Finish with an error."""
        self.error = error
        self.move(State.FAILED)


class JobStore:
    """Every job the simulator knows, plus the global fault switches."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.faults = Faults()
        self._sequence = 0

    def create(
        self,
        model_path: str,
        arguments: dict[str, Any],
        prompt_text: str,
        webhook_url: str | None,
        faults: Faults,
    ) -> Job:
        """Create and register a job in the queue."""
        self._sequence += 1
        job = Job(model_path, arguments, prompt_text, webhook_url, faults, self._sequence)
        self.jobs[job.request_id] = job
        return job

    def find(self, request_id: str, app: str | None = None) -> Job | None:
        """Return the job the queue API can see, optionally checking the app it was submitted to."""
        job = self.jobs.get(request_id)
        if job is None or job.state is State.FORGOTTEN:
            return None
        if app is not None and app not in (job.app_id, job.model_path):
            return None
        return job

    def queue_position(self, job: Job) -> int:
        """Count the jobs still queued ahead of job."""
        return sum(
            1
            for other in self.jobs.values()
            if other.state is State.IN_QUEUE and other.sequence < job.sequence
        )

    def media(self, name: str) -> tuple[Job, MediaFile] | None:
        """Return the media file of that name and the job it belongs to."""
        request_id = name.split(".", 1)[0].split("_", 1)[0]
        job = self.jobs.get(request_id)
        if job is None or name not in job.media:
            return None
        return job, job.media[name]

    def clear(self) -> None:
        """Forget every job and switch every global fault off."""
        self.jobs.clear()
        self.faults = Faults()
