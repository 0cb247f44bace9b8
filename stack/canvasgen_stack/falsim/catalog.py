"""What each kind of model accepts and what it returns."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from canvasgen_stack.falsim.media import VIDEO_SIZES

VIDEO_DURATIONS = ("5", "10")
# fal's image_size presets, scaled down to keep rendering instant.
IMAGE_SIZES = {
    "square_hd": (512, 512),
    "square": (384, 384),
    "portrait_4_3": (384, 512),
    "portrait_16_9": (288, 512),
    "landscape_4_3": (512, 384),
    "landscape_16_9": (512, 288),
}
MAX_IMAGE_SIDE = 512


class InputError(ValueError):
    """The model input fails validation; carries fal's 422 `detail` list."""

    def __init__(self, field: str, message: str, error_type: str) -> None:
        super().__init__(message)
        self.detail = [{"loc": ["body", field], "msg": message, "type": error_type}]


@dataclass(frozen=True)
class VideoSpec:
    """How to render a video model's output."""

    seconds: int
    aspect_ratio: str


@dataclass(frozen=True)
class ImageSpec:
    """How to render an image model's output."""

    width: int
    height: int
    count: int
    seed: int


def is_video_model(model_path: str) -> bool:
    """Tell whether a model path names a video model."""
    return "video" in model_path


def read_prompt(arguments: dict[str, Any]) -> str:
    """Return the required prompt field of a model input."""
    prompt = arguments.get("prompt")
    if prompt is None:
        raise InputError("prompt", "field required", "value_error.missing")
    if not isinstance(prompt, str):
        raise InputError("prompt", "str type expected", "type_error.str")
    return prompt


def video_spec(model_path: str, arguments: dict[str, Any]) -> VideoSpec:
    """Validate a video model input the way the Kling endpoints do."""
    read_prompt(arguments)
    duration = arguments.get("duration", "5")
    if duration not in VIDEO_DURATIONS:
        raise InputError("duration", "value is not a valid enumeration member; permitted: '5', '10'", "enum")
    if "image-to-video" in model_path:
        if not isinstance(arguments.get("image_url"), str):
            raise InputError("image_url", "field required", "value_error.missing")
        aspect_ratio = "16:9"
    else:
        aspect_ratio = arguments.get("aspect_ratio", "16:9")
        if aspect_ratio not in VIDEO_SIZES:
            message = "value is not a valid enumeration member; permitted: '16:9', '9:16', '1:1'"
            raise InputError("aspect_ratio", message, "enum")
    return VideoSpec(int(duration), aspect_ratio)


def image_spec(arguments: dict[str, Any]) -> ImageSpec:
    """Validate an image model input the way flux/dev does."""
    read_prompt(arguments)
    width, height = _image_size(arguments.get("image_size", "landscape_4_3"))
    count = arguments.get("num_images", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 4:
        raise InputError("num_images", "ensure this value is between 1 and 4", "value_error.number")
    seed = arguments.get("seed")
    if seed is None:
        seed = random.randrange(2**31)
    elif not isinstance(seed, int) or isinstance(seed, bool):
        raise InputError("seed", "value is not a valid integer", "type_error.integer")
    return ImageSpec(width, height, count, seed)


def _image_size(value: object) -> tuple[int, int]:
    """Map an image_size preset or {width, height} to the (small) rendered size."""
    if isinstance(value, str) and value in IMAGE_SIZES:
        return IMAGE_SIZES[value]
    if isinstance(value, dict):
        width, height = value.get("width"), value.get("height")
        if isinstance(width, int) and isinstance(height, int) and _side_ok(width) and _side_ok(height):
            scale = min(1.0, MAX_IMAGE_SIDE / max(width, height))
            # Even sides keep every encoder happy.
            return max(16, int(width * scale) // 2 * 2), max(16, int(height * scale) // 2 * 2)
    raise InputError(
        "image_size", "must be a preset name or {width, height} between 16 and 14142", "value_error"
    )


def _side_ok(side: int) -> bool:
    """Tell whether an image side length is within flux's accepted range."""
    return 16 <= side <= 14142


def file_object(url: str, content_type: str, file_name: str, size: int) -> dict[str, Any]:
    """Build fal's File object."""
    return {"url": url, "content_type": content_type, "file_name": file_name, "file_size": size}


def video_output(file: dict[str, Any]) -> dict[str, Any]:
    """Build a video model's output payload."""
    return {"video": file}


def image_output(
    images: list[dict[str, Any]], spec: ImageSpec, prompt: str, seconds: float
) -> dict[str, Any]:
    """Build flux/dev's output payload."""
    return {
        "images": images,
        "timings": {"inference": round(seconds, 3)},
        "seed": spec.seed,
        "has_nsfw_concepts": [False] * len(images),
        "prompt": prompt,
    }
