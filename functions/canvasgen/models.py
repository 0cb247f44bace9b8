"""The JSON bodies the functions accept and answer with; camelCase on the wire, like the canvas."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """A body with camelCase keys that refuses unknown keys."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class SubmitRequest(WireModel):
    """Start a generation for one node."""

    project_id: UUID
    node_id: str = Field(min_length=1, max_length=200)
    model: str = Field(min_length=1, max_length=100)
    prompt: str = Field(min_length=1, max_length=5000)
    image_url: str | None = Field(default=None, max_length=4096)
    duration: int | None = None
    aspect_ratio: str | None = None


class SubmitAccepted(WireModel):
    """A generation was accepted; the node shows it as pending."""

    request_id: str
    job_id: UUID
    status: str


class CancelRequest(WireModel):
    """Cancel a node's running generation."""

    project_id: UUID
    node_id: str = Field(min_length=1, max_length=200)


class CancelAnswer(WireModel):
    """The generation was cancelled; the node shows it."""

    job_id: UUID
    status: Literal["cancelled"]


class SaveRequest(WireModel):
    """Save a client's copy of a whole canvas, based on the version it last saw."""

    project_id: UUID
    content: dict[str, Any]
    base_version: int = Field(ge=1)


class SaveAnswer(WireModel):
    """The canvas as saved: the client's edits with the server's generation state."""

    version: int
    updated_at: str
    content: dict[str, Any]


class ReconcileReport(WireModel):
    """What one reconciliation round did."""

    checked: int
    completed: int
    failed: int
    still_pending: int


class ProjectView(WireModel):
    """A project as its owner sees it."""

    id: UUID
    name: str
    content: dict[str, Any]
    version: int
    updated_at: str


class ErrorDetail(WireModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(WireModel):
    """Every error answer: `{"error": {"code", "message", "details"?}}`."""

    error: ErrorDetail


class FalWebhook(BaseModel):
    """A webhook delivery from fal's queue; unknown keys are kept, every field but two is optional."""

    model_config = ConfigDict(extra="allow")

    request_id: str = Field(min_length=1)
    gateway_request_id: str | None = None
    status: Literal["OK", "ERROR"]
    payload: Any = None
    error: Any = None
    payload_error: str | None = None


class WebhookAnswer(WireModel):
    """What the webhook did with a delivery."""

    outcome: Literal["completed", "failed", "duplicate", "recorded", "unknown"]
    job_id: UUID | None = None
