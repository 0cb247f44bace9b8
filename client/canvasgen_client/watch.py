"""Watch one project live with the official Supabase Realtime client, never missing a generation.

Supabase delivers each change at most once and nothing while a socket is down, so the watcher loads
the project through the `project` function on every (re)subscription and whenever a change arrives
without its content (Realtime's 413 for records over 1 MiB). Every canvas, pushed or fetched, carries the
project's `version`; older ones than the last applied are ignored, so a slow refetch never rolls back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
from realtime import (
    AsyncRealtimeChannel,
    AsyncRealtimeClient,
    RealtimePostgresChangesListenEvent,
    RealtimeSubscribeStates,
)

from canvasgen_client.api import ApiError, CanvasApi
from canvasgen_client.nodestate import NodeEvent, NodeTracker

log = logging.getLogger("canvasgen.watch")
PAYLOAD_TOO_LARGE = "Error 413"


class ProjectWatcher:
    """Report node events of one project as they happen."""

    def __init__(
        self,
        *,
        realtime_url: str,
        apikey: str,
        token: str,
        api: CanvasApi,
        project_id: str,
        on_event: Callable[[NodeEvent], None],
    ) -> None:
        self._client = AsyncRealtimeClient(realtime_url, token=apikey, max_retries=20, initial_backoff=0.5)
        self._token, self._api, self.project_id, self._on_event = token, api, project_id, on_event
        self.tracker = NodeTracker()
        self.version = 0
        self.refetches = 0
        self.subscribed = asyncio.Event()
        self._channel: AsyncRealtimeChannel | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Subscribe to the project's changes and load its current state."""
        await self._client.connect()
        await self._client.set_auth(self._token)
        channel = self._client.channel(f"project:{self.project_id}")
        channel.on_postgres_changes(
            RealtimePostgresChangesListenEvent.Update,
            self._on_change,
            table="projects",
            schema="public",
            filter=f"id=eq.{self.project_id}",
        )
        channel.on_system(self._on_system)
        self._channel = channel
        await channel.subscribe(self._on_state)

    async def stop(self) -> None:
        """Leave the channel and close the socket."""
        if self._channel is not None:
            await self._client.remove_channel(self._channel)
        await self._client.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _on_state(self, state: RealtimeSubscribeStates, error: Exception | None) -> None:
        log.info("channel %s", state.value, extra={"projectId": self.project_id})
        if state == RealtimeSubscribeStates.SUBSCRIBED:
            self.subscribed.set()
            self._spawn(self.refetch())
        elif error is not None:
            self.subscribed.clear()

    def _on_system(self, payload: Any) -> None:
        if isinstance(payload, dict) and payload.get("status") == "ok":
            self._spawn(self.refetch())

    def _on_change(self, payload: Any) -> None:
        data = payload.get("data", {})
        record = data.get("record") or {}
        errors = data.get("errors") or []
        if any(PAYLOAD_TOO_LARGE in str(error) for error in errors) or "content" not in record:
            self._spawn(self.refetch())
            return
        self._apply(record.get("version"), record["content"])

    async def refetch(self, attempts: int = 5) -> None:
        """Load the project through the `project` function and apply it, retrying a failed load."""
        for attempt in range(attempts):
            try:
                project = await self._api.project(self.project_id)
            except (ApiError, httpx.HTTPError) as exc:
                if attempt == attempts - 1:
                    raise
                log.info("refetch failed, retrying: %s", exc)
                await asyncio.sleep(0.5 * 2**attempt)
                continue
            self.refetches += 1
            self._apply(project.get("version"), project["content"])
            return

    def _apply(self, version: Any, content: dict[str, Any]) -> None:
        if isinstance(version, int):
            if version < self.version:
                return
            self.version = version
        for event in self.tracker.update(content):
            self._on_event(event)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("refetch failed: %s", task.exception())
