"""pgTAP suites (run with Debian's pg_prove) and `supabase db lint` on the test database."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest

from canvasgen_stack.config import PROJECT_ROOT
from canvasgen_stack.schema import supabase_cli

PGTAP_TESTS = sorted((PROJECT_ROOT / "supabase" / "tests" / "database").glob("*.test.sql"))


@pytest.fixture
def pgtap(database: str) -> Iterator[str]:
    """The test database with pgTAP in `extensions`, as hosted Supabase installs it; removed afterwards."""
    with psycopg.connect(database, autocommit=True) as conn:
        present = conn.execute("select 1 from pg_extension where extname = 'pgtap'").fetchone()
        conn.execute("create extension if not exists pgtap with schema extensions")
    yield database
    if not present:
        # pgTAP's own functions would otherwise show up in `supabase db lint`.
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute("drop extension if exists pgtap")


def test_pgtap_suite_exists() -> None:
    """The schema, RLS and node-patch suites are all there to run."""
    assert {path.name for path in PGTAP_TESTS} >= {"schema.test.sql", "rls.test.sql", "node_patch.test.sql"}


def test_pgtap_suite_passes(pgtap: str) -> None:
    """Every pgTAP file passes under pg_prove."""
    url = urlsplit(pgtap)
    env = {**os.environ, "PGPASSWORD": url.password or "", "PGOPTIONS": "-c search_path=public,extensions"}
    command = ["pg_prove", "-h", str(url.hostname), "-p", str(url.port), "-U", str(url.username)]
    command += ["-d", url.path.lstrip("/"), *map(str, PGTAP_TESTS)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Result: PASS" in output


def test_db_lint_reports_no_error(database: str) -> None:
    """`supabase db lint` (plpgsql_check) finds no error in any schema."""
    result = supabase_cli(database, "db", "lint", "--level", "warning", "--fail-on", "error", "-o", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    findings = json.loads(result.stdout) if result.stdout.strip() else []
    errors = [issue for entry in findings for issue in entry["issues"] if issue["level"] == "error"]
    assert errors == []
