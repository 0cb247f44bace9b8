"""One accepted socket: Phoenix messages in, replies and pushes out through its `Outbox`.

Frames that are not Phoenix messages (binary user broadcasts, garbage) are ignored, and a failure
while handling one channel becomes that channel's `phx_error`, as a crashed Phoenix channel does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import psycopg
from starlette.websockets import WebSocket

from canvasgen_stack.realtime.bindings import BindingError, echo, requested
from canvasgen_stack.realtime.catalog import Catalog
from canvasgen_stack.realtime.channels import Channel, Registry
from canvasgen_stack.realtime.frames import FrameError, Message, Serializer
from canvasgen_stack.realtime.outbox import Outbox
from canvasgen_stack.realtime.tokens import Claims, TokenError, verify

log = logging.getLogger(__name__)

IDLE_TIMEOUT_SECONDS = 60.0  # Phoenix closes a socket that has sent nothing for a minute
TICK_SECONDS = 1.0
SUBSCRIBED = "Subscribed to PostgreSQL"


@dataclass(frozen=True)
class Services:
    """What every socket of one server shares."""

    secret: str
    registry: Registry
    catalog: Catalog


class Connection:
    """The server side of one socket."""

    def __init__(
        self, websocket: WebSocket, serializer: Serializer, claims: Claims, services: Services
    ) -> None:
        self._ws = websocket
        self._serializer = serializer
        self._claims = claims
        self._services = services
        self._channels: dict[str, Channel] = {}
        self._outbox = Outbox(websocket)
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Serve the socket until the client leaves or falls silent."""
        writer = asyncio.create_task(self._outbox.drain())
        try:
            await self._read()
        finally:
            for channel in self._channels.values():
                self._services.registry.discard(channel)
            self._channels.clear()
            for task in self._tasks:
                task.cancel()
            self._outbox.close()
            await writer
            with contextlib.suppress(Exception):
                await self._ws.close()

    def push_change(self, channel: Channel, ids: list[int], data: str) -> None:
        """Send a `postgres_changes` message to a channel that is still joined."""
        if self._channels.get(channel.topic) is channel:
            self._outbox.put(self._serializer.encode_change(channel.topic, json.dumps(ids), data))

    def shut(self, channel: Channel, message: str) -> None:
        """Close a channel with a `system` error, as Supabase does when its token fails."""
        if self._channels.get(channel.topic) is not channel:
            return
        self._drop(channel)
        status = {"extension": "system", "status": "error", "message": message, "channel": channel.name}
        self._push(channel, "system", status)
        self._push(channel, "phx_close", {}, ref=channel.join_ref)

    async def _read(self) -> None:
        receiving = asyncio.ensure_future(self._ws.receive())
        heard = time.monotonic()
        try:
            while not self._outbox.overflowed and time.monotonic() - heard < IDLE_TIMEOUT_SECONDS:
                done, _ = await asyncio.wait({receiving}, timeout=TICK_SECONDS)
                self._expire()
                if not done:
                    continue
                try:
                    event = receiving.result()
                except Exception:  # the transport failed under us: the same as a disconnect
                    return
                if event["type"] == "websocket.disconnect":
                    return
                heard = time.monotonic()
                if event.get("text") is not None:
                    self._receive(event["text"])
                receiving = asyncio.ensure_future(self._ws.receive())
        finally:
            receiving.cancel()

    def _receive(self, text: str) -> None:
        try:
            message = self._serializer.decode(text)
        except FrameError:
            log.debug("ignoring a frame that is not a Phoenix message")
            return
        try:
            self._route(message)
        except Exception:
            log.exception("failed to handle %s on %s", message.event, message.topic)
            self._crash(message.topic)

    def _route(self, message: Message) -> None:
        if message.topic == "phoenix" and message.event == "heartbeat":
            self._reply(message, "ok", {})
        elif message.event == "phx_join":
            self._join(message)
        elif message.event == "phx_leave":
            self._leave(message)
        elif message.topic in self._channels:
            self._channel_message(self._channels[message.topic], message)
        else:
            self._reply(message, "error", {"reason": "unmatched topic"})

    def _join(self, message: Message) -> None:
        if not message.topic.startswith("realtime:"):
            self._reply(message, "error", {"reason": "unmatched topic"})
            return
        if message.topic == "realtime:":
            self._reply(message, "error", {"reason": "TopicNameRequired: You must provide a topic name"})
            return
        previous = self._channels.get(message.topic)
        if previous is not None:
            # A second join on a topic replaces the first, as in Phoenix.
            self._drop(previous)
            self._push(previous, "phx_close", {}, ref=previous.join_ref)
        payload = message.payload if isinstance(message.payload, dict) else {}
        try:
            claims = self._join_claims(payload)
        except TokenError as exc:
            self._reply(message, "error", {"reason": exc.reason})
            return
        join_ref = message.join_ref if message.join_ref is not None else message.ref
        channel = Channel(message.topic, join_ref, self, claims, requested(payload))
        self._channels[channel.topic] = channel
        self._reply(message, "ok", {"postgres_changes": echo(channel.requested)})
        if channel.requested:
            self._spawn(self._subscribe(channel))

    def _join_claims(self, payload: dict[str, Any]) -> Claims:
        """Verify the join's own token; without one (or with an opaque `sb_` key) the socket's key applies."""
        token = payload.get("access_token") or payload.get("user_token")
        if not isinstance(token, str) or token.startswith("sb_") or token == self._claims.token:
            return verify(self._claims.token, self._services.secret)
        return verify(token, self._services.secret)

    async def _subscribe(self, channel: Channel) -> None:
        """Resolve the bindings, make them live, then say so: from here on nothing committed is missed."""
        try:
            subscriptions = await self._services.catalog.resolve(channel.requested, channel.claims.role)
        except BindingError as exc:
            self._services.registry.discard(channel)
            self._system(channel, "error", str(exc))
            return
        except psycopg.Error:
            log.exception("could not subscribe %s", channel.topic)
            self._crash(channel.topic)
            return
        if self._channels.get(channel.topic) is channel:
            channel.subscriptions = subscriptions
            self._services.registry.add(channel)
            self._system(channel, "ok", SUBSCRIBED)

    def _leave(self, message: Message) -> None:
        channel = self._channels.get(message.topic)
        if channel is not None and message.join_ref not in (None, channel.join_ref):
            return  # a leave for an earlier join of this topic, which the server already closed
        self._reply(message, "ok", {})
        if channel is not None:
            self._drop(channel)
            self._push(channel, "phx_close", {}, ref=channel.join_ref)

    def _channel_message(self, channel: Channel, message: Message) -> None:
        if message.event == "access_token" and isinstance(message.payload, dict):
            self._refresh(channel, message.payload.get("access_token"))
        else:
            # Broadcast and presence are not served here; Supabase, too, ignores events it does not know.
            log.debug("ignoring %s on %s", message.event, message.topic)

    def _refresh(self, channel: Channel, token: Any) -> None:
        """Swap a channel's claims for a new token's; a token that fails closes the channel."""
        if not isinstance(token, str) or token.startswith("sb_") or token == channel.claims.token:
            return
        try:
            channel.claims = verify(token, self._services.secret)
        except TokenError as exc:
            self.shut(channel, exc.message)
            return
        if channel.requested:
            self._spawn(self._subscribe(channel))

    def _expire(self) -> None:
        now = time.time()
        for channel in list(self._channels.values()):
            if channel.claims.expired(now):
                self.shut(channel, f"Token has expired {int(now) - channel.claims.expires_at} seconds ago")

    def _crash(self, topic: str) -> None:
        channel = self._channels.get(topic)
        if channel is not None:
            self._drop(channel)
            self._push(channel, "phx_error", {}, ref=channel.join_ref)

    def _drop(self, channel: Channel) -> None:
        self._channels.pop(channel.topic, None)
        self._services.registry.discard(channel)

    def _system(self, channel: Channel, status: str, message: str) -> None:
        if self._channels.get(channel.topic) is channel:
            payload = {"extension": "postgres_changes", "status": status, "message": message}
            self._push(channel, "system", {**payload, "channel": channel.name})

    def _push(self, channel: Channel, event: str, payload: Any, ref: Any = None) -> None:
        self._outbox.put(
            self._serializer.encode(Message(channel.topic, event, payload, ref, channel.join_ref))
        )

    def _reply(self, message: Message, status: str, response: Any) -> None:
        reply = Message(
            message.topic,
            "phx_reply",
            {"status": status, "response": response},
            message.ref,
            message.join_ref,
        )
        self._outbox.put(self._serializer.encode(reply))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
