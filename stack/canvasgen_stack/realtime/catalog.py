"""What the database lets a channel subscribe to: tables in publication `supabase_realtime`, roles
that exist, filters on columns that exist with values of the column's type.

Supabase checks the same when it inserts a channel's subscription rows, and reports a failure as a
`system` error after the join reply; so does this server.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from canvasgen_stack.realtime.bindings import Binding, BindingError, Subscription, binding, unable

PUBLICATION = "supabase_realtime"
PUBLISHED_TTL_SECONDS = 1.0


class Catalog:
    """Answers about the database, from a small pool of connections."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool
        self._published: frozenset[tuple[str, str]] = frozenset()
        self._published_at = float("-inf")

    async def published(self, fresh: bool = False) -> frozenset[tuple[str, str]]:
        """Return the published tables, re-read when older than a second or when asked to."""
        if fresh or time.monotonic() - self._published_at > PUBLISHED_TTL_SECONDS:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(
                    "select schemaname::text, tablename::text from pg_publication_tables where pubname = %s",
                    (PUBLICATION,),
                )
                self._published = frozenset((str(row[0]), str(row[1])) for row in await cursor.fetchall())
            self._published_at = time.monotonic()
        return self._published

    async def resolve(self, entries: list[dict[str, Any]], role: str) -> list[Subscription]:
        """Resolve a channel's bindings for a role, or raise `BindingError` with the reason."""
        if not await self._role_exists(role):
            raise BindingError(unable(entries[0]) if entries else f'role "{role}" does not exist')
        published = await self.published(fresh=True)
        resolved = []
        for params in entries:
            wanted = binding(params)
            tables = frozenset(
                table for table in published if table[0] == wanted.schema and wanted.table in (None, table[1])
            )
            if not tables:
                raise BindingError(unable(params))
            for table in tables:
                await self._check_filter(wanted, table)
            resolved.append(Subscription(wanted, tables))
        return resolved

    async def _role_exists(self, role: str) -> bool:
        async with self._pool.connection() as conn:
            cursor = await conn.execute("select exists (select 1 from pg_roles where rolname = %s)", (role,))
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def _check_filter(self, wanted: Binding, table: tuple[str, str]) -> None:
        """Evaluate the filter once on an empty row: an unknown column or a value of the wrong type fails."""
        if wanted.filter is None:
            return
        query = sql.SQL(
            "select {} from (select jsonb_populate_record(null::{}, '{{}}') as image) as t"
        ).format(wanted.filter.condition("image"), sql.Identifier(*table))
        try:
            async with self._pool.connection() as conn:
                await conn.execute(query)
        except (psycopg.DataError, psycopg.ProgrammingError) as exc:
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            msg = f"Unable to subscribe to changes with given parameters: {wanted.filter.column}: {detail}"
            raise BindingError(msg) from exc
