"""functions/requirements.txt: what `gcloud functions deploy` installs is exactly what uv.lock pins."""

from __future__ import annotations

import subprocess
from pathlib import Path

from canvasgen_stack.config import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "functions" / "requirements.txt"
UV = PROJECT_ROOT / ".venv" / "bin" / "uv"
# The same options as `make requirements`.
EXPORT = ["export", "--frozen", "--no-default-groups", "--no-emit-project", "--no-hashes", "--no-header"]


def test_requirements_file_is_current(tmp_path: Path) -> None:
    """Exporting uv.lock again gives functions/requirements.txt byte for byte (run `make requirements`)."""
    fresh = tmp_path / "requirements.txt"
    subprocess.run([str(UV), *EXPORT, "-o", str(fresh), "--quiet"], cwd=PROJECT_ROOT, check=True, timeout=120)
    assert fresh.read_text() == REQUIREMENTS.read_text(), (
        "functions/requirements.txt is stale: make requirements"
    )


def test_requirements_hold_only_the_runtime() -> None:
    """The deployed artifact gets neither the project itself nor the local stack's or dev tools' packages."""
    names = {
        line.split("==")[0].strip().lower()
        for line in REQUIREMENTS.read_text().splitlines()
        if line and not line.startswith((" ", "#"))
    }
    assert {"functions-framework", "psycopg", "psycopg-pool", "boto3", "httpx", "pydantic-settings"} <= names
    assert not names & {"canvasgen", "pytest", "mypy", "ruff", "realtime", "websockets", "hypothesis"}
    assert all("==" in line for line in REQUIREMENTS.read_text().splitlines() if line and line[0].isalpha())
