"""The deployable artifact: `functions/` alone, in a clean virtual environment built from its requirements.

Each entry point is started with the `functions-framework` command, as Cloud Functions starts it, from a
copy of `functions/` outside the development tree, and called over loopback HTTP.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from canvasgen.openapi import OPERATIONS
from canvasgen.routes import FUNCTIONS
from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from tests.support import ALICE_ID

REQUIREMENTS = PROJECT_ROOT / "functions" / "requirements.txt"
VENVS = PROJECT_ROOT / ".local" / "artifact-venv"
METHODS = {op.name: op.method.upper() for op in OPERATIONS}
SEEDED_PROJECT = "a11ce000-0000-4000-8000-0000000000a1"


@dataclass(frozen=True)
class Served:
    """One entry point running under functions-framework."""

    name: str
    url: str
    method: str
    log: Path


def _venv_key() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes())
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    return digest.hexdigest()[:16]


def _build_venv(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(["python3", "-m", "venv", str(folder)], check=True, timeout=120)
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-input"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True, timeout=900)
    (folder / "ready").write_text(REQUIREMENTS.read_text())


@pytest.fixture(scope="module")
def venv() -> Path:
    """A virtual environment holding only functions/requirements.txt, cached by the file's hash."""
    folder = VENVS / _venv_key()
    VENVS.mkdir(parents=True, exist_ok=True)
    # A lock, so two test runs never build the same environment at once.
    with (VENVS / f"{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "ready").is_file():
            _build_venv(folder)
    return folder


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of `functions/` alone, outside the development tree."""
    root = tmp_path_factory.mktemp("artifact")
    shutil.copytree(
        PROJECT_ROOT / "functions",
        root / "functions",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache"),
    )
    return root


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(venv: Path, home: Path, database_url: str, jwt_secret: str) -> dict[str, str]:
    """Return a bare environment: the required settings, the provider and storage on unused ports."""
    unused = f"http://127.0.0.1:{_free_port()}"
    return {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "CANVASGEN_DATABASE_URL": database_url,
        "CANVASGEN_DATABASE_TIMEOUT_SECONDS": "3",
        "CANVASGEN_JWT_SECRET": jwt_secret,
        "CANVASGEN_FAL_KEY": "artifact-test:not-a-real-key",
        "CANVASGEN_FAL_QUEUE_URL": unused,
        "CANVASGEN_FAL_JWKS_URL": f"{unused}/.well-known/jwks.json",
        "CANVASGEN_WEBHOOK_URL": f"{unused}/fal-webhook",
        "CANVASGEN_STORAGE_ENDPOINT_URL": unused,
        "CANVASGEN_STORAGE_ACCESS_KEY_ID": "S3RVER",
        "CANVASGEN_STORAGE_SECRET_ACCESS_KEY": "S3RVER",
        "CANVASGEN_STORAGE_BUCKET": "media",
        "CANVASGEN_MEDIA_PUBLIC_BASE_URL": f"{unused}/media",
    }


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"functions-framework exited with {process.returncode}:\n{log.read_text()}")
        try:
            httpx.options(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"functions-framework did not answer on {url}:\n{log.read_text()}")


@pytest.fixture(scope="module", params=sorted(FUNCTIONS))
def served(
    request: pytest.FixtureRequest,
    venv: Path,
    artifact: Path,
    database: str,
    stack_settings: StackSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    """One entry point served by `functions-framework` from the clean environment."""
    name: str = request.param
    port = _free_port()
    home = tmp_path_factory.mktemp(f"home-{name}")
    log = home / "functions-framework.log"
    command = [
        str(venv / "bin" / "functions-framework"),
        f"--target={FUNCTIONS[name]}",
        "--source=functions/main.py",
        "--host=127.0.0.1",
        f"--port={port}",
    ]
    env = _environment(venv, home, database, stack_settings.jwt_secret)
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=artifact, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(process, url, log)
        yield Served(name, url, METHODS[name], log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    code: str = response.json()["error"]["code"]
    return code


def test_every_function_has_a_method() -> None:
    """Every entry point of routes.FUNCTIONS is described, so each is started and called below."""
    assert set(METHODS) == set(FUNCTIONS)


def test_wrong_method_answers_405(served: Served) -> None:
    """A method the function does not take answers 405 with the JSON error body."""
    other = "GET" if served.method == "POST" else "POST"
    response = httpx.request(other, served.url, timeout=30.0)
    assert _error_code(response, 405) == "method_not_allowed"
    assert served.method in response.headers["access-control-allow-methods"]


def test_missing_credentials_answer_401(served: Served) -> None:
    """A call without a token (or, for the webhook, without fal's signature headers) answers 401 JSON."""
    response = httpx.request(served.method, served.url, content=b"{}", timeout=30.0)
    expected = "invalid_signature" if served.name == "fal-webhook" else "missing_token"
    assert _error_code(response, 401) == expected


def test_log_lines_are_structured(served: Served) -> None:
    """What the artifact logs about a refused call is one JSON line in Cloud Logging's shape."""
    httpx.request(served.method, served.url, content=b"{}", timeout=30.0)
    entries = [json.loads(line) for line in served.log.read_text().splitlines() if line.startswith("{")]
    refused = [entry for entry in entries if entry.get("message") == "request refused"]
    assert refused and refused[-1]["severity"] == "INFO" and refused[-1]["status"] == 401


def test_preflight_answers_cors(served: Served) -> None:
    """A browser's preflight gets 204 with the CORS headers."""
    response = httpx.options(served.url, headers={"Origin": "https://canvas.example"}, timeout=30.0)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "authorization" in response.headers["access-control-allow-headers"]


@pytest.mark.parametrize("served", ["project"], indirect=True)
def test_project_reads_the_database(served: Served, stack_settings: StackSettings) -> None:
    """The artifact's own psycopg reaches PostgreSQL: a seeded project comes back to its owner."""
    token = stack_settings.user_token(ALICE_ID, "alice@example.com")
    response = httpx.get(
        served.url,
        params={"id": SEEDED_PROJECT},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == SEEDED_PROJECT and response.json()["content"]["nodes"]


def test_environment_lacks_the_development_tree(artifact: Path, venv: Path) -> None:
    """Neither the project, the local stack nor the dev tools are importable in the clean environment."""
    probe = "import importlib.util as u; print([m for m in MODULES if u.find_spec(m)])".replace(
        "MODULES", repr(("canvasgen", "canvasgen_stack", "canvasgen_client", "pytest", "mypy"))
    )
    found = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe],
        cwd=artifact,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found == "[]"
