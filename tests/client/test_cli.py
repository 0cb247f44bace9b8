"""The command line: generate with --wait, watch, and the dev subcommands, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import httpx
import jwt

from canvasgen_stack.config import StackSettings
from canvasgen_stack.services import stack_env
from tests.support import Canvas, Conn, FalSimulator, User, node_data, wait_for


def run_cli(
    stack: StackSettings, *args: str, token: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **stack_env(stack), "CANVASGEN_API_URL": stack.api_url}
    if token:
        env["CANVASGEN_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "canvasgen_client.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def generate(canvas: Canvas, prompt: str, *extra: str) -> list[str]:
    return [
        "generate",
        "--project",
        canvas.id,
        "--node",
        "video-1",
        "--model",
        "kling-v2.5-turbo-pro",
        "--prompt",
        prompt,
        "--duration",
        "5",
        "--aspect-ratio",
        "9:16",
        *extra,
    ]


def test_generate_wait_prints_the_media_url(
    stack: StackSettings, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """`generate --wait` exits 0 with the stored media URL once the node completes."""
    result = run_cli(stack, *generate(project, "cli run", "--wait"), token=alice.token)
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip().splitlines()[-1]
    assert url.startswith(stack.media_base_url) and httpx.head(url).status_code == 200


def test_generate_wait_reports_a_failure(
    stack: StackSettings, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """`generate --wait` exits 1 with the error when the generation fails."""
    result = run_cli(stack, *generate(project, "cli [sim:model_error]", "--wait"), token=alice.token)
    assert result.returncode == 1 and "generation failed" in result.stderr and "422" in result.stderr


def test_generate_refusal_is_explained(stack: StackSettings, alice: User, project: Canvas) -> None:
    """A refused submit exits 1 with the function's message and code."""
    result = run_cli(stack, *generate(project, "x", "--model", "nope"), token=alice.token)
    assert result.returncode == 1 and "unknown_model" in result.stderr


def test_generate_without_wait_returns_at_once(
    stack: StackSettings, db: Conn, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """Without --wait the command prints the request and leaves the node pending."""
    result = run_cli(stack, *generate(project, "later [sim:never_complete]"), token=alice.token)
    assert result.returncode == 0 and "submitted" in result.stdout
    assert node_data(db, project.id, "video-1")["loading"] is True


def test_watch_prints_state_changes(
    stack: StackSettings, alice: User, project: Canvas, fal: FalSimulator
) -> None:
    """`watch` prints loading and completed lines for a generation made elsewhere."""
    env = {
        **os.environ,
        **stack_env(stack),
        "CANVASGEN_API_URL": stack.api_url,
        "CANVASGEN_TOKEN": alice.token,
    }
    watcher = subprocess.Popen(
        [sys.executable, "-m", "canvasgen_client.cli", "watch", "--project", project.id],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        assert "watching project" in watcher.stdout.readline()
        time.sleep(0.5)
        response = httpx.post(
            f"{stack.functions_url}/submit",
            headers=alice.headers,
            json={"projectId": project.id, "nodeId": "video-1", "model": "flux-dev", "prompt": "watched"},
        )
        assert response.status_code == 202
        lines = [watcher.stdout.readline().strip()]
        while "completed" not in lines[-1] and len(lines) < 6:
            lines.append(watcher.stdout.readline().strip())
    finally:
        watcher.terminate()
        watcher.wait(10)
    assert lines[0].startswith("video-1: loading")
    assert lines[-1].startswith("video-1: completed image/png http")


def test_dev_status_and_token(stack: StackSettings, db: Conn) -> None:
    """`dev status --json` describes the running stack; `dev token` creates the user and signs a token."""
    status: dict[str, Any] = json.loads(run_cli(stack, "dev", "status", "--json").stdout)
    assert status["functionsUrl"] == stack.functions_url and status["dbUrl"] == stack.database_url
    assert all(status["running"].values())
    claims = jwt.decode(status["serviceRoleKey"], stack.jwt_secret, algorithms=["HS256"])
    assert claims["role"] == "service_role"
    email = f"cli-{time.time_ns()}@example.com"
    token = run_cli(stack, "dev", "token", "--email", email).stdout.strip()
    claims = jwt.decode(token, stack.jwt_secret, algorithms=["HS256"], audience="authenticated")
    assert claims["email"] == email and claims["role"] == "authenticated"
    row = wait_for(
        lambda: db.execute("select id::text from auth.users where email = %s", (email,)).fetchone()
    )
    assert row["id"] == claims["sub"]
