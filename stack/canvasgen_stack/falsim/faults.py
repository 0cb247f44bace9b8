"""Fault switches: the global set, the per-job prompt tag, and how they combine."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from canvasgen_stack.falsim.loopback import loopback_url_problem

FLAGS = frozenset(
    {"model_error", "null_payload", "drop", "bad_signature", "never_complete", "forget", "ignore_cancel"}
)
SIZE_FAULTS = frozenset({"slow_media", "large_media"})
_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}
_SIZE = re.compile(r"([0-9]+)([KMG]?)")
# A value may hold bracketed runs so that IPv6 loopback URLs like http://[::1]:8000/ fit in a tag.
_VALUE = r"(?:[^,\[\]\s]|\[[^\[\]\s]*\])+"
_ITEM = rf"[a-z_]+(?:={_VALUE})?"
_TAG = re.compile(rf"\[sim:({_ITEM}(?:\s*,\s*{_ITEM})*)\]")
_TAG_START = "[sim:"


class FaultTagError(ValueError):
    """A prompt holds a fault tag that does not follow the tag syntax."""


class Faults(BaseModel):
    """Which misbehaviours a job (or every new job) shows."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    model_error: bool = False
    null_payload: bool = False
    duplicate: int | None = Field(default=None, ge=1, le=100)
    drop: bool = False
    delay: float | None = Field(default=None, ge=0, le=86400)
    queued: float | None = Field(default=None, ge=0, le=86400)
    bad_signature: bool = False
    stale_timestamp: int | None = Field(default=None, ge=0)
    slow_media: int | None = Field(default=None, ge=1)
    large_media: int | None = Field(default=None, ge=1, le=64 * 1024**3)
    redirect: str | None = None
    submit_status: int | None = Field(default=None, ge=400, le=599)
    submit_delay: float | None = Field(default=None, ge=0, le=600)
    never_complete: bool = False
    forget: bool = False
    ignore_cancel: bool = False

    @field_validator("redirect")
    @classmethod
    def _redirect_is_loopback(cls, value: str | None) -> str | None:
        """Refuse redirect targets off this machine."""
        problem = loopback_url_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem)
        return value

    def overridden_by(self, other: Faults) -> Faults:
        """Return these faults with every field that other set explicitly replaced."""
        return self.model_copy(update={name: getattr(other, name) for name in other.model_fields_set})


def parse_prompt(prompt: str) -> tuple[str, Faults]:
    """Split a prompt into its text without tags and the faults its tags ask for."""
    values: dict[str, object] = {}
    position = prompt.find(_TAG_START)
    while position != -1:
        match = _TAG.match(prompt, position)
        if match is None:
            raise FaultTagError(f"malformed fault tag at character {position}")
        for item in re.split(r"\s*,\s*", match.group(1)):
            name, value = _parse_item(item)
            if name in values:
                raise FaultTagError(f"fault {name!r} given twice")
            values[name] = value
        position = prompt.find(_TAG_START, match.end())
    try:
        faults = Faults.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        raise FaultTagError(f"fault {first['loc'][0]!r}: {first['msg']}") from error
    return " ".join(_TAG.sub(" ", prompt).split()), faults


def _parse_item(item: str) -> tuple[str, object]:
    """Turn one `name` or `name=value` tag item into a field name and raw value."""
    name, separator, value = item.partition("=")
    if name not in Faults.model_fields:
        raise FaultTagError(f"unknown fault {name!r}")
    if name in FLAGS:
        if separator:
            raise FaultTagError(f"fault {name!r} takes no value")
        return name, True
    if not separator:
        raise FaultTagError(f"fault {name!r} needs a value")
    if name in SIZE_FAULTS:
        return name, _parse_size(name, value)
    return name, value


def _parse_size(name: str, value: str) -> int:
    """Read a byte count with an optional K/M/G (binary) suffix."""
    match = _SIZE.fullmatch(value)
    if match is None:
        raise FaultTagError(f"fault {name!r} needs a byte count like 1048576 or 512M")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2)]
