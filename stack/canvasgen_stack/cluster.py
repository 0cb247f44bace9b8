"""The project's own PostgreSQL 15 cluster: created, configured for logical decoding, started and stopped.

PostgreSQL refuses to run as root, so when we are root the server programs run as the `postgres`
system user that Debian's package creates, and the data folder is handed to that user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg

from canvasgen_stack.config import StackSettings

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "wal_level": "logical",
    "max_replication_slots": "20",
    "max_wal_senders": "20",
    "max_connections": "300",
    "shared_preload_libraries": "'plpgsql_check'",
    "timezone": "'UTC'",
    "log_min_messages": "warning",
    "logging_collector": "off",
}


class ClusterError(RuntimeError):
    """The local cluster could not be created, started or reached."""


def _as_server_user(command: Sequence[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


def _run(command: Sequence[str]) -> None:
    result = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        msg = f"{' '.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}"
        raise ClusterError(msg)


def data_dir(settings: StackSettings) -> Path:
    """Return the cluster's data folder."""
    return settings.path("db", "data")


def _prepare_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        server_user = pwd.getpwnam("postgres")
        for path in (folder.parent, folder):
            os.chown(path, server_user.pw_uid, server_user.pw_gid)
        _let_server_user_through(folder.parent.parent)
    folder.chmod(0o700)


def _let_server_user_through(folder: Path) -> None:
    # The server user must be able to walk down to its data folder, wherever the checkout lives; only the
    # search bit is added, so nothing becomes listable or readable.
    for path in (folder, *folder.parents):
        mode = path.stat().st_mode
        if not mode & stat.S_IXOTH:
            path.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def create(settings: StackSettings) -> bool:
    """Create and configure the cluster unless it exists; return whether it was created."""
    folder = data_dir(settings)
    if (folder / "PG_VERSION").exists():
        _configure(settings, folder)
        return False
    _prepare_folder(folder)
    password_file = folder.parent / "initdb-password"
    password_file.write_text("postgres\n")
    if os.geteuid() == 0:
        shutil.chown(password_file, "postgres", "postgres")
    _run(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(folder),
            "-U",
            "postgres",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
    )
    password_file.unlink()
    _configure(settings, folder)
    return True


def _configure(settings: StackSettings, folder: Path) -> None:
    socket_dir = folder.parent / "socket"
    socket_dir.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(socket_dir, "postgres", "postgres")
    lines = [f"{key} = {value}" for key, value in SERVER_SETTINGS.items()]
    lines += [f"port = {settings.db_port}", f"unix_socket_directories = '{socket_dir}'"]
    (folder / "postgresql.auto.conf").write_text("\n".join(lines) + "\n")
    hba = [
        "local all all trust",
        "local replication all trust",
        "host all all 127.0.0.1/32 scram-sha-256",
        "host replication all 127.0.0.1/32 scram-sha-256",
    ]
    (folder / "pg_hba.conf").write_text("\n".join(hba) + "\n")


def is_running(settings: StackSettings) -> bool:
    """Tell whether the cluster accepts connections."""
    try:
        with psycopg.connect(settings.database_url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def start(settings: StackSettings, timeout: float = 30.0) -> None:
    """Start the cluster and wait until it accepts connections."""
    if is_running(settings):
        return
    folder = data_dir(settings)
    log = settings.path("logs", "postgres.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    if os.geteuid() == 0:
        shutil.chown(log, "postgres", "postgres")
    _run([str(PG_BIN / "pg_ctl"), "-D", str(folder), "-l", str(log), "-w", "-t", str(int(timeout)), "start"])
    deadline = time.monotonic() + timeout
    while not is_running(settings):
        if time.monotonic() > deadline:
            msg = f"PostgreSQL did not accept connections on port {settings.db_port}; see {log}"
            raise ClusterError(msg)
        time.sleep(0.1)


def stop(settings: StackSettings, mode: str = "fast") -> None:
    """Stop the cluster if it runs."""
    folder = data_dir(settings)
    if not (folder / "postmaster.pid").exists():
        return
    _run([str(PG_BIN / "pg_ctl"), "-D", str(folder), "-m", mode, "-w", "stop"])


def destroy(settings: StackSettings) -> None:
    """Stop the cluster and delete its data."""
    stop(settings, mode="immediate")
    shutil.rmtree(settings.path("db"), ignore_errors=True)
