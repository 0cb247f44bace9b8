"""The two Phoenix serializers a Supabase Realtime socket speaks, chosen by the `vsn` query parameter.

`1.0.0` (the Python client) sends JSON objects; a server frame carries `topic, event, payload, ref`
and never `join_ref`. `2.0.0` (supabase-js' default) sends arrays `[join_ref, ref, topic, event,
payload]`. A missing `vsn` means `1.0.0`, as in Phoenix.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

# A ref is echoed exactly as the client sent it; clients send strings, but nothing forbids numbers.
Ref = str | int | None


class FrameError(ValueError):
    """A text frame that is not a Phoenix message."""


@dataclass(frozen=True)
class Message:
    """One Phoenix message, in either direction."""

    topic: str
    event: str
    payload: Any
    ref: Ref = None
    join_ref: Ref = None


class Serializer(Protocol):
    """Turn text frames into messages and back."""

    def decode(self, text: str) -> Message: ...

    def encode(self, message: Message) -> str: ...

    def encode_change(self, topic: str, ids: str, data: str) -> str: ...


class JsonObjectSerializer:
    """Phoenix's V1 JSON serializer."""

    def decode(self, text: str) -> Message:
        """Read a `{topic, event, payload, ref, join_ref}` object."""
        value = _load(text)
        if not isinstance(value, dict):
            raise FrameError("a 1.0.0 frame is a JSON object")
        return _message(
            value.get("topic"),
            value.get("event"),
            value.get("payload"),
            value.get("ref"),
            value.get("join_ref"),
        )

    def encode(self, message: Message) -> str:
        """Write a message without `join_ref`, as V1 servers do."""
        frame = {
            "topic": message.topic,
            "event": message.event,
            "payload": message.payload,
            "ref": message.ref,
        }
        return json.dumps(frame, separators=(",", ":"))

    def encode_change(self, topic: str, ids: str, data: str) -> str:
        """Write a `postgres_changes` push around an already rendered `data` object."""
        return (
            f'{{"topic":{json.dumps(topic)},"event":"postgres_changes",'
            f'"payload":{{"ids":{ids},"data":{data}}},"ref":null}}'
        )


class JsonArraySerializer:
    """Supabase Realtime's V2 serializer (text frames only)."""

    def decode(self, text: str) -> Message:
        """Read a `[join_ref, ref, topic, event, payload]` array."""
        value = _load(text)
        if not isinstance(value, list) or len(value) != 5:
            raise FrameError("a 2.0.0 frame is an array of five")
        join_ref, ref, topic, event, payload = value
        return _message(topic, event, payload, ref, join_ref)

    def encode(self, message: Message) -> str:
        """Write a message as a five-element array."""
        frame = [message.join_ref, message.ref, message.topic, message.event, message.payload]
        return json.dumps(frame, separators=(",", ":"))

    def encode_change(self, topic: str, ids: str, data: str) -> str:
        """Write a `postgres_changes` push around an already rendered `data` object."""
        return f'[null,null,{json.dumps(topic)},"postgres_changes",{{"ids":{ids},"data":{data}}}]'


def serializer_for(vsn: str | None) -> Serializer | None:
    """Return the serializer for a `vsn` (`~> 1.0.0` or `~> 2.0.0`), or None if unsupported."""
    version = vsn or "1.0.0"
    if version.startswith("1.0."):
        return JsonObjectSerializer()
    if version.startswith("2.0."):
        return JsonArraySerializer()
    return None


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise FrameError("not JSON") from exc


def _message(topic: Any, event: Any, payload: Any, ref: Any, join_ref: Any) -> Message:
    if not isinstance(topic, str) or not isinstance(event, str):
        raise FrameError("topic and event must be strings")
    if not all(_is_ref(value) for value in (ref, join_ref)):
        raise FrameError("refs must be strings, integers or null")
    return Message(topic, event, {} if payload is None else payload, ref, join_ref)


def _is_ref(value: Any) -> bool:
    return value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
