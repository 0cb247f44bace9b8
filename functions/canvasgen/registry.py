"""The models users can pick: our ids, the fal endpoints behind them, and each model's options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from canvasgen.errors import InvalidRequest
from canvasgen.models import SubmitRequest

MediaKind = Literal["video", "image"]
Problems = list[dict[str, str]]


@dataclass(frozen=True)
class ProviderCall:
    """What to send to the provider for one generation."""

    endpoint: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Model:
    """One model of the registry."""

    id: str
    kind: MediaKind
    build: Callable[[SubmitRequest, Problems], ProviderCall]

    def call_for(self, request: SubmitRequest) -> ProviderCall:
        """Validate the request's options for this model and build the provider call."""
        problems: Problems = []
        call = self.build(request, problems)
        if problems:
            msg = f"invalid options for model {self.id}"
            raise InvalidRequest(msg, code="validation_failed", details=problems)
        return call


def _problem(problems: Problems, field: str, message: str) -> None:
    problems.append({"field": field, "message": message})


def _image_url_problem(url: str) -> str | None:
    if not url.startswith(("https://", "http://")):
        return "must be an http(s) URL"
    return None


def _kling(request: SubmitRequest, problems: Problems) -> ProviderCall:
    base = "fal-ai/kling-video/v2.5-turbo/pro"
    duration = request.duration if request.duration is not None else 5
    if duration not in (5, 10):
        _problem(problems, "duration", "must be 5 or 10 seconds")
    payload: dict[str, Any] = {"prompt": request.prompt, "duration": str(duration)}
    if request.image_url is not None:
        if request.aspect_ratio is not None:
            _problem(problems, "aspectRatio", "is only accepted for text-to-video (no imageUrl)")
        if (problem := _image_url_problem(request.image_url)) is not None:
            _problem(problems, "imageUrl", problem)
        payload["image_url"] = request.image_url
        return ProviderCall(f"{base}/image-to-video", payload)
    aspect_ratio = request.aspect_ratio or "16:9"
    if aspect_ratio not in ("16:9", "9:16", "1:1"):
        _problem(problems, "aspectRatio", "must be one of 16:9, 9:16, 1:1")
    payload["aspect_ratio"] = aspect_ratio
    return ProviderCall(f"{base}/text-to-video", payload)


def _flux(request: SubmitRequest, problems: Problems) -> ProviderCall:
    for field, value in (("duration", request.duration), ("aspectRatio", request.aspect_ratio)):
        if value is not None:
            _problem(problems, field, "is not an option of image models")
    if request.image_url is not None:
        _problem(problems, "imageUrl", "is not an option of flux-dev")
    payload = {"prompt": request.prompt, "num_images": 1, "output_format": "png"}
    return ProviderCall("fal-ai/flux/dev", payload)


MODELS: dict[str, Model] = {
    model.id: model
    for model in (
        Model("kling-v2.5-turbo-pro", "video", _kling),
        Model("flux-dev", "image", _flux),
    )
}


def resolve(model_id: str) -> Model:
    """Return the model with this id, or say which ones exist."""
    try:
        return MODELS[model_id]
    except KeyError:
        known = sorted(MODELS)
        msg = f"unknown model {model_id!r}; known models: {', '.join(known)}"
        raise InvalidRequest(msg, code="unknown_model", details={"known": known}) from None
