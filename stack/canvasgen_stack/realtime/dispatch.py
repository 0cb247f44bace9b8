"""Deliver each committed change to the live channels whose bindings, filters and policies allow it.

Changes are handled one at a time in commit order on one connection, so every socket receives them
in commit order. Per change: the bindings that cover its table and event, then one query that
renders it and evaluates their filters, then one row level security check per distinct claims set,
then one message per channel carrying the ids of all its matching bindings.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import TupleRow

from canvasgen_stack.realtime import visibility
from canvasgen_stack.realtime.bindings import Subscription
from canvasgen_stack.realtime.catalog import Catalog
from canvasgen_stack.realtime.changes import Change
from canvasgen_stack.realtime.channels import Channel, Registry
from canvasgen_stack.realtime.filters import Filter
from canvasgen_stack.realtime.payloads import change_data, refused
from canvasgen_stack.realtime.rendering import MAX_RECORD_BYTES, Rendered, render

log = logging.getLogger(__name__)

Target = tuple[Channel, Subscription]
RECONNECT_DELAY_SECONDS = 1.0
RETRY_SECONDS = 60.0


class Dispatcher:
    """Turns changes into `postgres_changes` messages on the sockets that may see them."""

    def __init__(self, database_url: str, registry: Registry, catalog: Catalog) -> None:
        self._url = database_url
        self._registry = registry
        self._catalog = catalog
        self._conn: AsyncConnection[TupleRow] | None = None
        self.max_record_bytes = MAX_RECORD_BYTES

    async def open(self) -> None:
        """Connect and prepare the session the checks run in."""
        conn = await AsyncConnection.connect(self._url, autocommit=True)
        # Supabase's database runs in UTC, which is how timestamptz values reach its clients.
        await conn.execute("set timezone to 'UTC'")
        await visibility.install(conn)
        self._conn = conn

    async def close(self) -> None:
        """Close the connection."""
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def deliver(self, change: Change) -> None:
        """Deliver one change, retrying for a while if the database goes away (a restart, say)."""
        deadline = time.monotonic() + RETRY_SECONDS
        while True:
            try:
                if self._conn is None:
                    await self.open()
                await self._deliver(change)
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise
                log.warning("database unreachable while delivering a change: %s", exc)
                await self.close()
                await asyncio.sleep(RECONNECT_DELAY_SECONDS)

    async def _deliver(self, change: Change) -> None:
        if (change.schema, change.table) not in await self._catalog.published():
            return
        targets = [
            (channel, subscription)
            for channel, subscription in self._registry.matching(change.schema, change.table, change.action)
            if not channel.claims.expired()
        ]
        if not targets:
            return
        filters = [subscription.binding.filter for _, subscription in targets if subscription.binding.filter]
        roles = [channel.claims.role for channel, _ in targets]
        rendered = await self._render(change, filters, roles)
        told: list[Target] = []
        checked: list[Target] = []
        for channel, subscription in targets:
            if refused(rendered, channel.claims.role):
                # Supabase tells such a role every change of the table, with the error and no row.
                told.append((channel, subscription))
            elif _passes(rendered, subscription):
                checked.append((channel, subscription))
        _send(rendered, told + await self._visible(rendered, checked))

    async def _render(self, change: Change, filters: list[Filter], roles: list[str]) -> Rendered:
        """Render the change; if a filter no longer fits the table, that filter fails, not the change."""
        assert self._conn is not None
        try:
            return await render(self._conn, change, filters, roles, self.max_record_bytes)
        except (psycopg.DataError, psycopg.ProgrammingError):
            if not filters:
                raise
            log.warning(
                "a filter on %s.%s no longer applies; it matches nothing", change.schema, change.table
            )
            return await render(self._conn, change, [], roles, self.max_record_bytes)

    async def _visible(self, rendered: Rendered, targets: list[Target]) -> list[Target]:
        """Keep the targets whose role and claims may SELECT the row (all of them for deletes)."""
        if not targets or not rendered.rls_enabled or rendered.change.action == "DELETE":
            return targets
        assert self._conn is not None
        claim_sets = list(dict.fromkeys(channel.claims.text for channel, _ in targets))
        answers = await visibility.visible(self._conn, rendered.change, claim_sets)
        allowed = {claims for claims, seen in zip(claim_sets, answers, strict=True) if seen}
        return [target for target in targets if target[0].claims.text in allowed]


def _passes(rendered: Rendered, subscription: Subscription) -> bool:
    wanted = subscription.binding.filter
    return wanted is None or rendered.passes.get(wanted, False)


def _send(rendered: Rendered, targets: Iterable[Target]) -> None:
    """Push one message per channel and `select` list, with the ids of its matching bindings."""
    grouped: dict[Channel, dict[frozenset[str] | None, list[int]]] = {}
    for channel, subscription in targets:
        ids = grouped.setdefault(channel, {}).setdefault(subscription.binding.select, [])
        if subscription.binding.id not in ids:
            ids.append(subscription.binding.id)
    data_by_view: dict[tuple[str, frozenset[str] | None], str] = {}
    for channel, views in grouped.items():
        for select, ids in views.items():
            view = (channel.claims.role, select)
            if view not in data_by_view:
                data_by_view[view] = change_data(rendered, *view)
            channel.socket.push_change(channel, ids, data_by_view[view])
