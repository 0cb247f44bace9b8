"""Joined channels and the registry of those whose `postgres_changes` are live."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from canvasgen_stack.realtime.bindings import Subscription
from canvasgen_stack.realtime.frames import Ref
from canvasgen_stack.realtime.tokens import Claims


class Socket(Protocol):
    """What a channel needs from the socket it was joined on."""

    def push_change(self, channel: Channel, ids: list[int], data: str) -> None: ...

    def shut(self, channel: Channel, message: str) -> None: ...


@dataclass(eq=False)
class Channel:
    """One joined topic of one socket."""

    topic: str
    join_ref: Ref
    socket: Socket
    claims: Claims
    requested: list[dict[str, Any]]
    subscriptions: list[Subscription] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Return the topic without its `realtime:` prefix, as `system` messages name it."""
        return self.topic.removeprefix("realtime:")


class Registry:
    """The channels whose subscriptions are live, i.e. that have been told "Subscribed to PostgreSQL"."""

    def __init__(self) -> None:
        self._channels: set[Channel] = set()

    def __len__(self) -> int:
        return len(self._channels)

    def __iter__(self) -> Iterator[Channel]:
        return iter(list(self._channels))

    def add(self, channel: Channel) -> None:
        """Make a channel's subscriptions live."""
        self._channels.add(channel)

    def discard(self, channel: Channel) -> None:
        """Stop delivering to a channel."""
        self._channels.discard(channel)

    def matching(self, schema: str, table: str, action: str) -> list[tuple[Channel, Subscription]]:
        """Return every live (channel, subscription) a change of `action` on `schema.table` is for."""
        return [
            (channel, subscription)
            for channel in self._channels
            for subscription in channel.subscriptions
            if subscription.covers(schema, table, action)
        ]
