"""Fixtures of the database tests: databases of their own beside the test run's, in the same cluster."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

PGBOUNCER = "/usr/sbin/pgbouncer"


def url_of(database_url: str, name: str) -> str:
    """Return the URL of another database of the same cluster."""
    return f"{database_url.rsplit('/', 1)[0]}/{name}"


@pytest.fixture
def empty_database(database: str) -> Iterator[str]:
    """A new, empty database in the test cluster, dropped afterwards; yields its URL."""
    name = f"canvasgen_fresh_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield url_of(database, name)
    finally:
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@dataclass(frozen=True)
class Bouncer:
    """A PgBouncer in front of the test database; `url` is the database through it."""

    url: str
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _bouncer_config(folder: Path, database_url: str, port: int) -> Path:
    server = urlsplit(database_url)
    (folder / "userlist.txt").write_text(f'"{server.username}" ""\n')
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"postgres = host={server.hostname} port={server.port} dbname=postgres"
        f" user={server.username} password={server.password}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'userlist.txt'}\nlogfile = {folder / 'pgbouncer.log'}\n"
        # Transaction pooling at its strictest: every transaction may get another server session, and
        # each session is reset (DEALLOCATE ALL included) before it is handed out again.
        "pool_mode = transaction\nserver_reset_query = DISCARD ALL\nserver_reset_query_always = 1\n"
        "default_pool_size = 2\nmax_client_conn = 50\nignore_startup_parameters = extra_float_digits\n"
    )
    return config


@pytest.fixture(scope="module")
def pgbouncer(database: str) -> Iterator[Bouncer]:
    """PgBouncer (Debian's) in transaction mode on a loopback port, as Supabase's pooler runs at 6543."""
    folder = Path(tempfile.mkdtemp(prefix="canvasgen-pgbouncer-"))
    port = _free_port()
    config = _bouncer_config(folder, database, port)
    command = [PGBOUNCER, str(config)]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root, like PostgreSQL; the cluster's server user runs it.
        shutil.chown(folder, "postgres", "postgres")
        folder.chmod(0o700)
        for path in folder.iterdir():
            shutil.chown(path, "postgres", "postgres")
        command = ["runuser", "-u", "postgres", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"postgresql://postgres:postgres@127.0.0.1:{port}/postgres"
    try:
        _wait_for_bouncer(process, url, folder / "pgbouncer.log")
        yield Bouncer(url, folder / "pgbouncer.log")
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for_bouncer(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"pgbouncer exited with {process.returncode}: {log.read_text() if log.exists() else ''}"
            )
        try:
            with psycopg.connect(url, connect_timeout=2, prepare_threshold=None) as conn:
                conn.execute("select 1")
            return
        except psycopg.OperationalError:
            time.sleep(0.1)
    pytest.fail(f"pgbouncer did not accept connections: {log.read_text() if log.exists() else ''}")
