"""Stream what the database commits, in commit order, through a logical slot decoded by wal2json.

Each server owns one persistent slot named `canvasgen_realtime_<random>`, created before the server
accepts sockets, so every change committed after `start()` returns is kept for it even while the
decoder reconnects. A `pg_recvlogical` child streams the slot as wal2json format-version 2 lines.
If the child dies, a new one resumes at the slot's confirmed position and transactions already
passed on (by commit LSN) are skipped. Slots left behind by a server that died are dropped at start.

Debian's PostgreSQL only lets the plugins in `output_plugin_libraries` decode; a superuser may
widen that list for its own session, which is what the slot's connections do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow

from canvasgen_stack.cluster import PG_BIN
from canvasgen_stack.realtime import changes
from canvasgen_stack.realtime.changes import Change

log = logging.getLogger(__name__)

SLOT_PREFIX = "canvasgen_realtime_"
PLUGIN = "wal2json"
PLUGIN_OPTIONS = {
    "format-version": "2",
    "include-pk": "1",
    "include-timestamp": "1",
    "include-type-oids": "1",
    "include-lsn": "1",
}
LINE_LIMIT = 1024**3  # a decoded row can be as large as a jsonb value
RESTART_DELAY_SECONDS = 1.0


class ReplicationError(RuntimeError):
    """The slot could not be created or read."""


def lsn_value(text: str) -> int:
    """Return an LSN such as `0/16B3748` as an integer."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


class Replication:
    """This server's slot and the decoder process that reads it."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self.slot = f"{SLOT_PREFIX}{secrets.token_hex(6)}"
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._plugin_setting: str | None = None
        self._last_commit = 0  # commit LSN of the last transaction passed on whole
        self._transaction = 0  # commit LSN of the transaction being read
        self._passed = 0  # its changes passed on so far
        self._partial = (0, 0)  # a transaction the decoder died within, and how many of its changes went out
        self._skipping = False
        self._stderr_readers: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Drop abandoned slots, create this server's slot and start decoding it."""
        async with await AsyncConnection.connect(self._url, autocommit=True) as conn:
            self._plugin_setting = await _plugin_setting(conn)
            await conn.execute(
                "select pg_drop_replication_slot(slot_name) from pg_replication_slots"
                " where slot_name like %s and not active",
                (SLOT_PREFIX + "%",),
            )
            await self._create_slot(conn)
        self._process = await self._spawn()

    async def changes(self) -> AsyncIterator[Change]:
        """Yield committed changes in commit order until `stop()`, restarting the decoder if it dies."""
        while not self._stopping:
            process = self._process or await self._spawn()
            self._process = process
            async for change in self._read(process):
                yield change
            if self._stopping:
                return
            log.warning("pg_recvlogical exited with %s; restarting", await process.wait())
            self._process = None
            await asyncio.sleep(RESTART_DELAY_SECONDS)
            await self._recreate_slot()

    async def stop(self) -> None:
        """Stop the decoder and drop the slot."""
        self._stopping = True
        if self._process and self._process.returncode is None:
            self._process.terminate()
            with contextlib.suppress(ProcessLookupError):
                await asyncio.wait_for(self._process.wait(), 10)
        with contextlib.suppress(psycopg.Error):
            async with await AsyncConnection.connect(self._url, autocommit=True) as conn:
                await conn.execute(
                    "select pg_drop_replication_slot(slot_name) from pg_replication_slots"
                    " where slot_name = %s",
                    (self.slot,),
                )

    async def _read(self, process: asyncio.subprocess.Process) -> AsyncIterator[Change]:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            text = line.decode().strip()
            if not text:
                continue
            change = self.follow(text)
            if change is not None:
                yield change

    def follow(self, text: str) -> Change | None:
        """Track transaction boundaries and return the change a line carries, if it is new."""
        try:
            record = changes.parse(text)
            return self._next(record, text)
        except (ValueError, KeyError, TypeError):
            log.exception("skipping a wal2json record that could not be read")
            return None

    def _next(self, record: dict[str, Any], text: str) -> Change | None:
        action = record.get("action")
        if action == "B":
            self._transaction, self._passed = lsn_value(record["lsn"]), 0
            self._skipping = self._transaction <= self._last_commit
        elif action == "C" and not self._skipping:
            self._last_commit = max(self._last_commit, lsn_value(record["lsn"]))
            self._partial = (0, 0)
        elif action != "C" and not self._skipping:
            self._passed += 1
            # A decoder restarted within a transaction sends it again from its start.
            if self._partial[0] == self._transaction and self._passed <= self._partial[1]:
                return None
            self._partial = (self._transaction, self._passed)
            return changes.from_record(record, text)
        return None

    async def _spawn(self) -> asyncio.subprocess.Process:
        command, environment = self._command()
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            limit=LINE_LIMIT,
        )
        reader = asyncio.create_task(_log_errors(process))
        self._stderr_readers.add(reader)
        reader.add_done_callback(self._stderr_readers.discard)
        return process

    def _command(self) -> tuple[list[str], dict[str, str]]:
        params = conninfo_to_dict(self._url)
        environment = {
            **os.environ,
            "PGPASSWORD": str(params.pop("password", "")),
            "PGAPPNAME": "canvasgen_realtime",
        }
        if self._plugin_setting is not None:
            environment["PGOPTIONS"] = f"-c output_plugin_libraries={self._plugin_setting}"
        connection = " ".join(f"{key}={value}" for key, value in params.items())
        command = [
            str(PG_BIN / "pg_recvlogical"),
            "--dbname",
            connection,
            "--slot",
            self.slot,
            "--start",
            "--file",
            "-",
            "--fsync-interval",
            "0",
            "--status-interval",
            "1",
            "--no-loop",
        ]
        for key, value in PLUGIN_OPTIONS.items():
            command += ["--option", f"{key}={value}"]
        return command, environment

    async def _create_slot(self, conn: AsyncConnection[TupleRow]) -> None:
        if self._plugin_setting is not None:
            await conn.execute(
                "select set_config('output_plugin_libraries', %s, false)", (self._plugin_setting,)
            )
        await conn.execute("select pg_create_logical_replication_slot(%s, %s)", (self.slot, PLUGIN))

    async def _recreate_slot(self) -> None:
        """Create the slot again if the database lost it (a new cluster); what it held is gone."""
        try:
            async with await AsyncConnection.connect(self._url, autocommit=True) as conn:
                cursor = await conn.execute(
                    "select exists (select 1 from pg_replication_slots where slot_name = %s)", (self.slot,)
                )
                row = await cursor.fetchone()
                if row is not None and not row[0]:
                    log.warning("replication slot %s vanished; changes since were not seen", self.slot)
                    await self._create_slot(conn)
                    self._last_commit = 0
        except psycopg.OperationalError as exc:
            log.warning("database unreachable: %s", exc)


async def _plugin_setting(conn: AsyncConnection[TupleRow]) -> str | None:
    """Return the `output_plugin_libraries` value that admits wal2json, or None if there is no such list."""
    row = await (
        await conn.execute("select setting from pg_settings where name = 'output_plugin_libraries'")
    ).fetchone()
    if row is None:
        return None
    allowed = [name.strip() for name in str(row[0]).split(",") if name.strip()]
    return ",".join(dict.fromkeys([*allowed, PLUGIN]))


async def _log_errors(process: asyncio.subprocess.Process) -> None:
    assert process.stderr is not None
    while line := await process.stderr.readline():
        log.warning("pg_recvlogical: %s", line.decode().rstrip())
