"""Connections to PostgreSQL, and the translation of its failures into our errors.

Production connects through Supabase's pooler in transaction mode, which cannot keep server-side
prepared statements; `prepare_threshold=None` keeps psycopg from creating any.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from canvasgen.config import Settings
from canvasgen.errors import DatabaseUnavailable

Connection = psycopg.Connection[DictRow]


class Database:
    """A small pool of connections, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        kwargs: dict[str, Any] = {"row_factory": dict_row, "connect_timeout": 10}
        if not settings.database_prepared_statements:
            kwargs["prepare_threshold"] = None
        self._timeout = settings.database_timeout_seconds
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            settings.database_url.get_secret_value(),
            kwargs=kwargs,
            min_size=0,
            max_size=settings.database_pool_size,
            open=False,
            check=ConnectionPool.check_connection,
            name="canvasgen",
        )
        self._opened = False

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Yield a connection inside one transaction, committed when the block ends without error."""
        self._open()
        try:
            with self._pool.connection(timeout=self._timeout) as conn:
                yield conn
        except PoolTimeout as exc:
            msg = "the database did not answer in time"
            raise DatabaseUnavailable(msg) from exc
        except psycopg.OperationalError as exc:
            msg = "the database could not be reached"
            raise DatabaseUnavailable(msg) from exc

    def _open(self) -> None:
        if not self._opened:
            self._pool.open(wait=False)
            self._opened = True

    def close(self) -> None:
        """Close every connection of the pool."""
        if self._opened:
            self._pool.close()
            self._opened = False
