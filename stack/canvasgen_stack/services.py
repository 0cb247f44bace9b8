"""The processes of the local stack besides PostgreSQL: how each starts and how to tell it is ready."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from canvasgen_stack.config import PROJECT_ROOT, StackSettings

NODE_MODULES = PROJECT_ROOT / "node_modules"
# s3rver accepts any secret but only this access key.
STORAGE_ACCESS_KEY = "S3RVER"
LOCAL_FAL_KEY = "local-key-id:local-key-secret"


@dataclass(frozen=True)
class Service:
    """One long-running process of the stack."""

    name: str
    command: list[str]
    port: int | None
    health_path: str | None = None
    env: dict[str, str] = field(default_factory=dict)


def functions_env(settings: StackSettings) -> dict[str, str]:
    """Return the functions' production variables, pointed at the local stack."""
    return {
        "CANVASGEN_DATABASE_URL": settings.database_url,
        "CANVASGEN_JWT_SECRET": settings.jwt_secret,
        "CANVASGEN_FAL_KEY": LOCAL_FAL_KEY,
        "CANVASGEN_FAL_QUEUE_URL": settings.fal_url,
        "CANVASGEN_FAL_JWKS_URL": f"{settings.fal_url}/.well-known/jwks.json",
        "CANVASGEN_WEBHOOK_URL": f"{settings.functions_url}/fal-webhook",
        "CANVASGEN_STORAGE_ENDPOINT_URL": settings.storage_url,
        "CANVASGEN_STORAGE_REGION": "us-east-1",
        "CANVASGEN_STORAGE_ACCESS_KEY_ID": STORAGE_ACCESS_KEY,
        "CANVASGEN_STORAGE_SECRET_ACCESS_KEY": STORAGE_ACCESS_KEY,
        "CANVASGEN_STORAGE_BUCKET": settings.bucket,
        "CANVASGEN_MEDIA_PUBLIC_BASE_URL": settings.media_base_url,
        "CANVASGEN_MEDIA_HOSTS": f"{settings.host}:{settings.fal_port}",
        "CANVASGEN_MEDIA_ALLOW_HTTP": "true",
        "CANVASGEN_RECONCILE_AFTER_SECONDS": str(settings.reconcile_after_seconds),
        "CANVASGEN_JOB_TIMEOUT_SECONDS": str(settings.job_timeout_seconds),
    }


def stack_env(settings: StackSettings) -> dict[str, str]:
    """Return the variables that make a child process see the same stack settings."""
    return {
        "CANVASGEN_HOST": settings.host,
        "CANVASGEN_API_PORT": str(settings.api_port),
        "CANVASGEN_DB_PORT": str(settings.db_port),
        "CANVASGEN_STUDIO_PORT": str(settings.studio_port),
        "CANVASGEN_STORAGE_PORT": str(settings.storage_port),
        "CANVASGEN_FAL_PORT": str(settings.fal_port),
        "CANVASGEN_FUNCTIONS_PORT": str(settings.functions_port),
        "CANVASGEN_STATE_DIR": str(settings.state_dir),
        "CANVASGEN_JWT_SECRET": settings.jwt_secret,
        "CANVASGEN_RECONCILE_INTERVAL_SECONDS": str(settings.reconcile_interval_seconds),
    }


def services(settings: StackSettings) -> list[Service]:
    """Return the stack's processes in start order."""
    python = sys.executable
    host = settings.host
    stack = [
        Service(
            "storage",
            [
                "node",
                str(NODE_MODULES / "s3rver" / "bin" / "s3rver.js"),
                "-d",
                str(settings.path("storage")),
                "-a",
                host,
                "-p",
                str(settings.storage_port),
                "--silent",
                "--configure-bucket",
                settings.bucket,
            ],
            settings.storage_port,
        ),
        Service(
            "fal",
            [
                python,
                "-m",
                "canvasgen_stack.falsim",
                "--host",
                host,
                "--port",
                str(settings.fal_port),
                "--data-dir",
                str(settings.path("falsim")),
            ],
            settings.fal_port,
            "/_sim/health",
        ),
        Service(
            "functions",
            [
                python,
                "-m",
                "canvasgen_stack.functions_host",
                "--host",
                host,
                "--port",
                str(settings.functions_port),
            ],
            settings.functions_port,
            env=functions_env(settings),
        ),
        Service("gateway", [python, "-m", "canvasgen_stack.gateway"], settings.api_port, "/health"),
        Service("studio", [python, "-m", "canvasgen_stack.studio"], settings.studio_port, "/health"),
    ]
    if settings.reconcile_interval_seconds > 0:
        stack.append(Service("scheduler", [python, "-m", "canvasgen_stack.scheduler"], None))
    return stack
