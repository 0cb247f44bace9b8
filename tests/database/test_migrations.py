"""The migrations build the schema on a database holding only what hosted Supabase provides."""

from __future__ import annotations

import psycopg

from canvasgen_stack.config import PROJECT_ROOT
from canvasgen_stack.schema import BOOTSTRAP_SQL, push_migrations

MIGRATIONS = sorted((PROJECT_ROOT / "supabase" / "migrations").glob("*.sql"))


def bootstrap(url: str) -> None:
    """Run the local bootstrap, as `schema.prepare` does."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(BOOTSTRAP_SQL.read_text())


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_bootstrap_runs_twice_in_a_row(empty_database: str) -> None:
    """The bootstrap is idempotent: a second run on the same database raises nothing."""
    bootstrap(empty_database)
    bootstrap(empty_database)


def test_bootstrap_creates_only_what_hosted_supabase_has(empty_database: str) -> None:
    """After the bootstrap, `public` is still empty: every table, function and type comes from a migration."""
    bootstrap(empty_database)
    schemas = {row[0] for row in rows(empty_database, "select nspname from pg_namespace")}
    assert {"auth", "extensions"} <= schemas
    assert "supabase_migrations" not in schemas
    in_public = rows(
        empty_database,
        "select c.relname from pg_class c where c.relnamespace = 'public'::regnamespace"
        " union all select p.proname from pg_proc p where p.pronamespace = 'public'::regnamespace"
        " union all select t.typname from pg_type t where t.typnamespace = 'public'::regnamespace",
    )
    assert in_public == []
    assert rows(
        empty_database, "select count(*) from pg_publication_tables where pubname = 'supabase_realtime'"
    ) == [(0,)]


def test_migrations_apply_to_a_fresh_database(empty_database: str) -> None:
    """`supabase db push` applies every migration in order and records each as a hosted project would."""
    bootstrap(empty_database)
    push_migrations(empty_database)
    applied = rows(
        empty_database, "select version from supabase_migrations.schema_migrations order by version"
    )
    assert [row[0] for row in applied] == [path.name.split("_", 1)[0] for path in MIGRATIONS]
    tables = rows(
        empty_database,
        "select tablename from pg_tables where schemaname = 'public' order by tablename",
    )
    assert tables == [("generation_jobs",), ("projects",)]
    assert rows(
        empty_database, "select tablename from pg_publication_tables where pubname = 'supabase_realtime'"
    ) == [("projects",)]


def test_bootstrap_and_push_run_again_on_a_migrated_database(empty_database: str) -> None:
    """A second `make dev` start is harmless: bootstrap again, and the push finds nothing to apply."""
    bootstrap(empty_database)
    push_migrations(empty_database)
    bootstrap(empty_database)
    assert "up to date" in push_migrations(empty_database)
