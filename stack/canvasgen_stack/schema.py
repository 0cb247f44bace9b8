"""Bring the local database to the state of a deployed project: bootstrap, migrations, seed.

The migrations are applied by the real Supabase CLI (`supabase db push`), exactly as a deploy
applies them; the bootstrap creates only what a hosted Supabase project already has.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg

from canvasgen_stack.config import PROJECT_ROOT, StackSettings

BOOTSTRAP_SQL = Path(__file__).with_name("sql") / "bootstrap.sql"
SEED_SQL = PROJECT_ROOT / "supabase" / "seed.sql"
SUPABASE_CLI = PROJECT_ROOT / "node_modules" / ".bin" / "supabase"


class SchemaError(RuntimeError):
    """The bootstrap, a migration or the seed did not apply."""


def bootstrap(settings: StackSettings) -> None:
    """Create the roles, `auth` schema and publication that hosted Supabase provides."""
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(BOOTSTRAP_SQL.read_text())


def supabase_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the pinned Supabase CLI against a database (local clusters have no TLS)."""
    command = [str(SUPABASE_CLI), *args, "--db-url", f"{database_url}?sslmode=disable"]
    return subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=False, timeout=180)


def push_migrations(database_url: str) -> str:
    """Apply `supabase/migrations` with `supabase db push` and return what the CLI printed."""
    result = supabase_cli(database_url, "db", "push", "--yes")
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0:
        msg = f"supabase db push failed:\n{output}"
        raise SchemaError(msg)
    return output


def seed(settings: StackSettings) -> None:
    """Load the demo users and projects (idempotent)."""
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(SEED_SQL.read_text())


def prepare(settings: StackSettings) -> None:
    """Bootstrap, migrate and seed the database."""
    bootstrap(settings)
    push_migrations(settings.database_url)
    seed(settings)
