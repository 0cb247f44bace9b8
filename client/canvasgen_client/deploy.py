"""`canvasgen deploy`: the schema with the Supabase CLI, the functions and their scheduler with gcloud.

The plan is built from the settings alone and printed before anything runs, so `--dry-run` shows
exactly what a deploy executes:

    1. `supabase db push --project-ref REF`   the migrations, as `make dev` applies them locally
    2. `gcloud functions deploy <name>`       once per function of `canvasgen.routes.FUNCTIONS`
    3. `gcloud scheduler jobs create http`    the job that calls `reconcile` (updated when it exists)

Secrets never appear on a command line: the functions read them from Secret Manager (`--set-secrets`),
the scheduler authenticates with an OIDC token of its own service account, and the Supabase CLI takes
the database password from `SUPABASE_DB_PASSWORD`.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from canvasgen.routes import FUNCTIONS
from canvasgen_stack.config import PROJECT_ROOT

ENV_PREFIX = "CANVASGEN_DEPLOY_"
SUPABASE_CLI = "node_modules/.bin/supabase"
RUNTIME = "python312"
SCHEDULER_JOB = "canvasgen-reconcile"
# The webhook and reconciliation stream media for up to CANVASGEN_MEDIA_TIMEOUT_SECONDS (600 s).
LONG_RUNNING = {
    "fal-webhook": ("--timeout=900s", "--memory=512Mi"),
    "reconcile": ("--timeout=900s", "--memory=512Mi"),
}
Runner = Callable[[Sequence[str]], int]
# An empty value (`CANVASGEN_DEPLOY_REGION=`) counts as missing.
Required = Annotated[str, Field(min_length=1)]
MISSING = {"missing", "string_too_short"}


class DeploySettings(BaseSettings):
    """Where and how to deploy; every variable is prefixed `CANVASGEN_DEPLOY_`."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    gcp_project: Required
    region: Required
    supabase_project_ref: Required
    r2_account_id: Required
    storage_bucket: Required
    media_public_base_url: Required
    cors_allow_origin: Required
    # Defaults to the project's JWKS (asymmetric signing keys); a legacy project adds its JWT secret.
    jwks_url: str | None = None
    jwt_secret_name: str | None = None
    database_url_secret_name: str = "canvasgen-database-url"
    fal_key_secret_name: str = "canvasgen-fal-key"
    storage_access_key_id_secret_name: str = "canvasgen-storage-access-key-id"
    storage_secret_access_key_secret_name: str = "canvasgen-storage-secret-access-key"
    media_hosts: str | None = None
    functions_service_account: str | None = None
    scheduler_service_account: str | None = None
    reconcile_schedule: str = "*/2 * * * *"

    @property
    def functions_url(self) -> str:
        """Return the base URL of the deployed functions."""
        return f"https://{self.region}-{self.gcp_project}.cloudfunctions.net"

    @property
    def functions_account(self) -> str:
        """Return the identity the functions run as."""
        return self.functions_service_account or self._account("functions")

    @property
    def scheduler_account(self) -> str:
        """Return the identity whose OIDC token the scheduler job sends to `reconcile`."""
        return self.scheduler_service_account or self._account("scheduler")

    def _account(self, name: str) -> str:
        return f"canvasgen-{name}@{self.gcp_project}.iam.gserviceaccount.com"


@dataclass(frozen=True)
class Step:
    """One command of the plan; when `exists` succeeds, `update` runs instead of `command`."""

    command: tuple[str, ...]
    exists: tuple[str, ...] | None = None
    update: tuple[str, ...] | None = None


class MissingSettings(Exception):
    """Required settings are missing; `names` are their environment variables."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"missing settings: {', '.join(names)}")
        self.names = names


def load_settings(config: Path | None, overrides: Mapping[str, str | None]) -> DeploySettings:
    """Read the settings from the environment and an optional env file; name every missing one."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return DeploySettings(_env_file=config, **given)  # type: ignore[call-arg]
    except ValidationError as exc:
        missing = [f"{ENV_PREFIX}{err['loc'][0]}".upper() for err in exc.errors() if err["type"] in MISSING]
        if missing:
            raise MissingSettings(missing) from exc
        raise


def environment(settings: DeploySettings) -> dict[str, str]:
    """Return the functions' plain environment variables."""
    env = {
        "GOOGLE_CLOUD_PROJECT": settings.gcp_project,
        "CANVASGEN_DATABASE_PREPARED_STATEMENTS": "false",
        "CANVASGEN_JWKS_URL": settings.jwks_url
        or f"https://{settings.supabase_project_ref}.supabase.co/auth/v1/.well-known/jwks.json",
        "CANVASGEN_WEBHOOK_URL": f"{settings.functions_url}/fal-webhook",
        "CANVASGEN_R2_ACCOUNT_ID": settings.r2_account_id,
        "CANVASGEN_STORAGE_REGION": "auto",
        "CANVASGEN_STORAGE_BUCKET": settings.storage_bucket,
        "CANVASGEN_MEDIA_PUBLIC_BASE_URL": settings.media_public_base_url,
        "CANVASGEN_CORS_ALLOW_ORIGIN": settings.cors_allow_origin,
        # Who may call `reconcile`: the scheduler job's OIDC identity, for the function's own URL.
        "CANVASGEN_SCHEDULER_SERVICE_ACCOUNT": settings.scheduler_account,
        "CANVASGEN_SCHEDULER_AUDIENCE": f"{settings.functions_url}/reconcile",
    }
    if settings.media_hosts:
        env["CANVASGEN_MEDIA_HOSTS"] = settings.media_hosts
    return env


def secrets(settings: DeploySettings) -> dict[str, str]:
    """Return the functions' secrets as Secret Manager references (`name:latest`)."""
    names = {
        "CANVASGEN_DATABASE_URL": settings.database_url_secret_name,
        "CANVASGEN_FAL_KEY": settings.fal_key_secret_name,
        "CANVASGEN_STORAGE_ACCESS_KEY_ID": settings.storage_access_key_id_secret_name,
        "CANVASGEN_STORAGE_SECRET_ACCESS_KEY": settings.storage_secret_access_key_secret_name,
    }
    if settings.jwt_secret_name:
        names["CANVASGEN_JWT_SECRET"] = settings.jwt_secret_name
    return {key: f"{name}:latest" for key, name in names.items()}


def key_values(values: Mapping[str, str]) -> str:
    """Join KEY=VALUE pairs for gcloud, switching the delimiter when a value holds a comma."""
    if not any("," in value for value in values.values()):
        return ",".join(f"{key}={value}" for key, value in values.items())
    # gcloud's escaping (`gcloud topic escaping`): `^;^` makes `;` the delimiter of this list.
    return "^;^" + ";".join(f"{key}={value}" for key, value in values.items())


def function_step(settings: DeploySettings, name: str, entry_point: str) -> Step:
    """Return the deploy of one function."""
    command = (
        *("gcloud", "functions", "deploy", name, "--gen2", f"--runtime={RUNTIME}", "--source=functions"),
        *(f"--entry-point={entry_point}", "--trigger-http", "--allow-unauthenticated"),
        *(f"--project={settings.gcp_project}", f"--region={settings.region}"),
        f"--service-account={settings.functions_account}",
        *LONG_RUNNING.get(name, ()),
        f"--set-env-vars={key_values(environment(settings))}",
        f"--set-secrets={key_values(secrets(settings))}",
    )
    return Step(command)


def scheduler_step(settings: DeploySettings) -> Step:
    """Return the scheduler job that calls `reconcile`, created or updated in place."""
    uri = f"{settings.functions_url}/reconcile"
    options = (
        f"--project={settings.gcp_project}",
        f"--location={settings.region}",
        f"--schedule={settings.reconcile_schedule}",
        "--time-zone=Etc/UTC",
        f"--uri={uri}",
        "--http-method=POST",
        f"--oidc-service-account-email={settings.scheduler_account}",
        f"--oidc-token-audience={uri}",
        "--attempt-deadline=900s",
    )
    where = (f"--project={settings.gcp_project}", f"--location={settings.region}")
    return Step(
        command=("gcloud", "scheduler", "jobs", "create", "http", SCHEDULER_JOB, *options),
        exists=("gcloud", "scheduler", "jobs", "describe", SCHEDULER_JOB, *where),
        update=("gcloud", "scheduler", "jobs", "update", "http", SCHEDULER_JOB, *options),
    )


def plan(settings: DeploySettings, functions: Mapping[str, str] = FUNCTIONS) -> list[Step]:
    """Return the deploy's steps in order: schema, functions, scheduler (when `reconcile` exists)."""
    steps = [Step((SUPABASE_CLI, "db", "push", f"--project-ref={settings.supabase_project_ref}", "--yes"))]
    steps += [function_step(settings, name, entry) for name, entry in functions.items()]
    if "reconcile" in functions:
        steps.append(scheduler_step(settings))
    return steps


def render(steps: Sequence[Step]) -> str:
    """Return the plan as shell lines, one command a line."""
    lines = []
    for step in steps:
        lines.append(shlex.join(step.command))
        if step.update is not None:
            lines.append(f"#   when it exists: {shlex.join(step.update)}")
    return "\n".join(lines)


def _run_in_project(command: Sequence[str], quiet: bool = False) -> int:
    try:
        return subprocess.run(list(command), cwd=PROJECT_ROOT, capture_output=quiet, check=False).returncode
    except FileNotFoundError:
        print(f"canvasgen deploy: {command[0]} is not installed", file=sys.stderr)
        return 127


def _quietly(command: Sequence[str]) -> int:
    return _run_in_project(command, quiet=True)


def execute(steps: Sequence[Step], run: Runner = _run_in_project, probe: Runner = _quietly) -> int:
    """Run the steps in order and stop at the first that fails; return its exit status."""
    for step in steps:
        command = step.command
        if step.exists is not None and step.update is not None and probe(step.exists) == 0:
            command = step.update
        print(f"+ {shlex.join(command)}", flush=True)
        status = run(command)
        if status != 0:
            print(f"canvasgen deploy: stopped, exit status {status}", file=sys.stderr)
            return status
    return 0


def register(commands: Any) -> None:
    """Add the `deploy` command."""
    deploy = commands.add_parser("deploy", help="deploy the schema, the functions and the scheduler job")
    deploy.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    deploy.add_argument("--project-ref", help="the Supabase project's ref")
    deploy.add_argument("--region", help="the Google Cloud region of the functions and the scheduler")
    deploy.add_argument("--config", type=Path, help=f"an env file of {ENV_PREFIX}* settings")
    deploy.set_defaults(handler=_deploy)


def _deploy(args: argparse.Namespace) -> int:
    overrides = {"supabase_project_ref": args.project_ref, "region": args.region}
    if args.config is not None and not args.config.is_file():
        print(f"canvasgen deploy: no config file {args.config}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.config, overrides)
    except MissingSettings as exc:
        print(f"canvasgen deploy: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"canvasgen deploy: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    steps = plan(settings)
    if args.dry_run:
        print(render(steps))
        return 0
    return execute(steps)
