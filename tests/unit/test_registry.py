"""registry: our model ids, their fal endpoints, and each model's options."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from canvasgen import registry
from canvasgen.errors import InvalidRequest
from canvasgen.models import SubmitRequest


def request(**fields: Any) -> SubmitRequest:
    return SubmitRequest.model_validate(
        {"projectId": str(uuid.uuid4()), "nodeId": "n", "prompt": "p", **fields}
    )


def test_kling_text_to_video_defaults() -> None:
    """Kling without an image is text-to-video, 5 s as the string "5", 16:9."""
    call = registry.resolve("kling-v2.5-turbo-pro").call_for(request(model="kling-v2.5-turbo-pro"))
    assert call.endpoint == "fal-ai/kling-video/v2.5-turbo/pro/text-to-video"
    assert call.input == {"prompt": "p", "duration": "5", "aspect_ratio": "16:9"}


def test_kling_image_to_video() -> None:
    """An image URL selects image-to-video, which takes no aspect ratio."""
    call = registry.resolve("kling-v2.5-turbo-pro").call_for(
        request(model="kling-v2.5-turbo-pro", imageUrl="https://fal.media/a.png", duration=10)
    )
    assert call.endpoint == "fal-ai/kling-video/v2.5-turbo/pro/image-to-video"
    assert call.input == {"prompt": "p", "duration": "10", "image_url": "https://fal.media/a.png"}


def test_flux_dev() -> None:
    """flux-dev asks for one PNG."""
    call = registry.resolve("flux-dev").call_for(request(model="flux-dev"))
    assert (call.endpoint, call.input["num_images"], call.input["output_format"]) == (
        "fal-ai/flux/dev",
        1,
        "png",
    )


@pytest.mark.parametrize(
    ("model", "fields", "bad"),
    [
        ("kling-v2.5-turbo-pro", {"duration": 6, "aspectRatio": "2:1"}, ["duration", "aspectRatio"]),
        ("kling-v2.5-turbo-pro", {"imageUrl": "ftp://x/a.png"}, ["imageUrl"]),
        (
            "flux-dev",
            {"duration": 5, "aspectRatio": "1:1", "imageUrl": "https://fal.media/a.png"},
            ["duration", "aspectRatio", "imageUrl"],
        ),
    ],
)
def test_invalid_options_name_every_field(model: str, fields: dict[str, Any], bad: list[str]) -> None:
    """Every invalid option is reported, each with its field."""
    with pytest.raises(InvalidRequest) as caught:
        registry.resolve(model).call_for(request(model=model, **fields))
    assert caught.value.code == "validation_failed"
    assert [d["field"] for d in caught.value.details] == bad


def test_unknown_model() -> None:
    """An unknown id is refused with the list of known ids."""
    with pytest.raises(InvalidRequest) as caught:
        registry.resolve("nope")
    assert caught.value.code == "unknown_model" and caught.value.details == {"known": sorted(registry.MODELS)}
