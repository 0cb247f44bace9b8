"""`canvasgen deploy`: the exact commands of a deploy, refusal on missing settings, and running in order."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from pathlib import Path

import pytest

from canvasgen.config import Settings
from canvasgen.routes import FUNCTIONS
from canvasgen_client import deploy
from canvasgen_client.cli import main
from canvasgen_stack.config import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "deploy" / "example.env"
BASE = "https://europe-west1-canvasgen-prod.cloudfunctions.net"
ENV_VARS = (
    "GOOGLE_CLOUD_PROJECT=canvasgen-prod,"
    "CANVASGEN_DATABASE_PREPARED_STATEMENTS=false,"
    "CANVASGEN_JWKS_URL=https://abcdefghijklmnopqrst.supabase.co/auth/v1/.well-known/jwks.json,"
    f"CANVASGEN_WEBHOOK_URL={BASE}/fal-webhook,"
    "CANVASGEN_R2_ACCOUNT_ID=0123456789abcdef0123456789abcdef,"
    "CANVASGEN_STORAGE_REGION=auto,"
    "CANVASGEN_STORAGE_BUCKET=canvasgen-media,"
    "CANVASGEN_MEDIA_PUBLIC_BASE_URL=https://media.canvas.example.com,"
    "CANVASGEN_CORS_ALLOW_ORIGIN=https://canvas.example.com,"
    "CANVASGEN_SCHEDULER_SERVICE_ACCOUNT=canvasgen-scheduler@canvasgen-prod.iam.gserviceaccount.com,"
    f"CANVASGEN_SCHEDULER_AUDIENCE={BASE}/reconcile"
)
SECRETS = (
    "CANVASGEN_DATABASE_URL=canvasgen-database-url:latest,"
    "CANVASGEN_FAL_KEY=canvasgen-fal-key:latest,"
    "CANVASGEN_STORAGE_ACCESS_KEY_ID=canvasgen-storage-access-key-id:latest,"
    "CANVASGEN_STORAGE_SECRET_ACCESS_KEY=canvasgen-storage-secret-access-key:latest"
)
SCHEDULER_OPTIONS = (
    "--project=canvasgen-prod --location=europe-west1 '--schedule=*/2 * * * *' --time-zone=Etc/UTC"
    f" --uri={BASE}/reconcile --http-method=POST"
    " --oidc-service-account-email=canvasgen-scheduler@canvasgen-prod.iam.gserviceaccount.com"
    f" --oidc-token-audience={BASE}/reconcile --attempt-deadline=900s"
)
LONG = " --timeout=900s --memory=512Mi"


def function_line(name: str, entry: str, extra: str = "") -> str:
    return (
        f"gcloud functions deploy {name} --gen2 --runtime=python312 --source=functions --entry-point={entry}"
        " --trigger-http --allow-unauthenticated --project=canvasgen-prod --region=europe-west1"
        f" --service-account=canvasgen-functions@canvasgen-prod.iam.gserviceaccount.com{extra}"
        f" --set-env-vars={ENV_VARS} --set-secrets={SECRETS}"
    )


EXPECTED = [
    "node_modules/.bin/supabase db push --project-ref=abcdefghijklmnopqrst --yes",
    function_line("submit", "submit"),
    function_line("fal-webhook", "fal_webhook", LONG),
    function_line("project", "project"),
    function_line("save", "save"),
    function_line("cancel", "cancel"),
    function_line("reconcile", "reconcile", LONG),
    f"gcloud scheduler jobs create http canvasgen-reconcile {SCHEDULER_OPTIONS}",
    f"#   when it exists: gcloud scheduler jobs update http canvasgen-reconcile {SCHEDULER_OPTIONS}",
]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No deploy setting leaks in from the shell running the tests."""
    for name in list(os.environ):
        if name.startswith(deploy.ENV_PREFIX):
            monkeypatch.delenv(name)


def config_without(tmp_path: Path, *names: str) -> Path:
    """Write the example configuration without some settings."""
    lines = [
        line
        for line in EXAMPLE.read_text().splitlines()
        if not any(line.startswith(f"{deploy.ENV_PREFIX}{name}=") for name in names)
    ]
    path = tmp_path / "deploy.env"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_dry_run_prints_the_exact_commands(capsys: pytest.CaptureFixture[str]) -> None:
    """With the complete example configuration, --dry-run prints every command of the deploy, in order."""
    assert main(["deploy", "--dry-run", "--config", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.splitlines() == EXPECTED


def test_dry_run_deploys_every_function() -> None:
    """Every function of routes.FUNCTIONS is deployed with its entry point, and nothing else is."""
    deployed = [line.split()[3] for line in EXPECTED if line.startswith("gcloud functions deploy")]
    assert deployed == list(FUNCTIONS)


def test_a_missing_setting_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without one required setting the deploy exits non-zero, names it, and prints no command."""
    config = config_without(tmp_path, "R2_ACCOUNT_ID")
    assert main(["deploy", "--dry-run", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "missing settings: CANVASGEN_DEPLOY_R2_ACCOUNT_ID" in captured.err


def test_an_empty_setting_counts_as_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A setting left empty in the file is named like a missing one."""
    config = config_without(tmp_path, "REGION")
    config.write_text(config.read_text() + "CANVASGEN_DEPLOY_REGION=\n")
    assert main(["deploy", "--dry-run", "--config", str(config)]) == 2
    assert "missing settings: CANVASGEN_DEPLOY_REGION" in capsys.readouterr().err


def test_every_missing_setting_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With no configuration at all, each required setting is named."""
    assert main(["deploy", "--dry-run"]) == 2
    err = capsys.readouterr().err
    for name in ("GCP_PROJECT", "REGION", "SUPABASE_PROJECT_REF", "R2_ACCOUNT_ID", "STORAGE_BUCKET"):
        assert f"CANVASGEN_DEPLOY_{name}" in err
    assert "CANVASGEN_DEPLOY_MEDIA_PUBLIC_BASE_URL" in err and "CANVASGEN_DEPLOY_CORS_ALLOW_ORIGIN" in err


def test_options_fill_and_override_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--project-ref and --region stand in for missing settings and win over the file."""
    config = config_without(tmp_path, "SUPABASE_PROJECT_REF")
    argv = ["deploy", "--dry-run", "--config", str(config), "--project-ref", "zyxwvutsrqponmlkjihg"]
    assert main([*argv, "--region", "us-central1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("node_modules/.bin/supabase db push --project-ref=zyxwvutsrqponmlkjihg --yes\n")
    assert "--region=us-central1" in out and "europe-west1" not in out
    assert "https://zyxwvutsrqponmlkjihg.supabase.co/auth/v1/.well-known/jwks.json" in out


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --config, the CANVASGEN_DEPLOY_* variables of the environment make the same plan."""
    for line in EXAMPLE.read_text().splitlines():
        if line.startswith(deploy.ENV_PREFIX):
            name, _, value = line.partition("=")
            monkeypatch.setenv(name, value)
    assert main(["deploy", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == EXPECTED


def test_a_misspelt_setting_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown CANVASGEN_DEPLOY_* key (a typo) is an error, not silently ignored."""
    config = tmp_path / "deploy.env"
    config.write_text(EXAMPLE.read_text() + "CANVASGEN_DEPLOY_STORAGE_BUCKIT=oops\n")
    assert main(["deploy", "--dry-run", "--config", str(config)]) == 2
    assert "storage_buckit" in capsys.readouterr().err.lower()


def test_a_missing_config_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A --config path that does not exist is an error rather than an empty configuration."""
    assert main(["deploy", "--dry-run", "--config", str(tmp_path / "nope.env")]) == 2
    assert "no config file" in capsys.readouterr().err


def settings(**overrides: str) -> deploy.DeploySettings:
    """Return the example settings with some changed."""
    loaded = deploy.load_settings(EXAMPLE, {})
    return loaded.model_copy(update=overrides)


def test_secrets_only_travel_as_secret_manager_references() -> None:
    """No secret setting is a plain environment variable; each is a `name:latest` reference."""
    for step in deploy.plan(settings(jwt_secret_name="canvasgen-jwt-secret")):
        for argument in step.command:
            if argument.startswith("--set-env-vars="):
                names = {
                    pair.split("=", 1)[0] for pair in argument.removeprefix("--set-env-vars=").split(",")
                }
                assert not names & {"CANVASGEN_DATABASE_URL", "CANVASGEN_FAL_KEY", "CANVASGEN_JWT_SECRET"}
                assert not any("SECRET_ACCESS_KEY" in name or "ACCESS_KEY_ID" in name for name in names)
            if argument.startswith("--set-secrets="):
                pairs = argument.removeprefix("--set-secrets=").split(",")
                assert "CANVASGEN_JWT_SECRET=canvasgen-jwt-secret:latest" in pairs
                assert all(pair.endswith(":latest") for pair in pairs)


def test_values_with_commas_use_gcloud_escaping() -> None:
    """Media hosts (a comma-separated list) switch the env-var list to gcloud's `^;^` delimiter."""
    step = deploy.plan(settings(media_hosts="fal.media,.fal.media"))[1]
    env_vars = next(arg for arg in step.command if arg.startswith("--set-env-vars="))
    assert env_vars.startswith("--set-env-vars=^;^GOOGLE_CLOUD_PROJECT=canvasgen-prod;")
    assert env_vars.endswith(";CANVASGEN_MEDIA_HOSTS=fal.media,.fal.media")


def test_no_scheduler_job_without_reconcile() -> None:
    """Only a deploy that includes `reconcile` schedules it."""
    steps = deploy.plan(settings(), {"submit": "submit"})
    assert [step.command[:3] for step in steps] == [
        ("node_modules/.bin/supabase", "db", "push"),
        ("gcloud", "functions", "deploy"),
    ]


class Recorder:
    """Stands in for the shell: records commands and answers with chosen exit statuses."""

    def __init__(self, failing: str | None = None, existing: bool = False) -> None:
        self.ran: list[str] = []
        self.probed: list[str] = []
        self.failing = failing
        self.existing = existing

    def run(self, command: Sequence[str]) -> int:
        self.ran.append(shlex.join(command))
        return 1 if self.failing and self.failing in command else 0

    def probe(self, command: Sequence[str]) -> int:
        self.probed.append(shlex.join(command))
        return 0 if self.existing else 1


def test_execute_runs_every_step_in_order() -> None:
    """Without --dry-run the commands run in the printed order, the scheduler job created when new."""
    recorder = Recorder()
    assert deploy.execute(deploy.plan(settings()), recorder.run, recorder.probe) == 0
    assert recorder.ran == EXPECTED[:-1]
    assert recorder.probed == [
        "gcloud scheduler jobs describe canvasgen-reconcile --project=canvasgen-prod --location=europe-west1"
    ]


def test_execute_updates_an_existing_scheduler_job() -> None:
    """A second deploy updates the scheduler job in place instead of failing to create it."""
    recorder = Recorder(existing=True)
    assert deploy.execute(deploy.plan(settings()), recorder.run, recorder.probe) == 0
    assert recorder.ran[-1] == EXPECTED[-1].removeprefix("#   when it exists: ")


def test_execute_stops_at_the_first_failure(capsys: pytest.CaptureFixture[str]) -> None:
    """A failing command stops the deploy with its exit status; later functions are not touched."""
    recorder = Recorder(failing="fal-webhook")
    assert deploy.execute(deploy.plan(settings()), recorder.run, recorder.probe) == 1
    assert recorder.ran == EXPECTED[:3]
    assert "stopped" in capsys.readouterr().err


def test_deployed_environment_is_a_complete_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain variables plus one value per secret reference make valid function settings, R2 included."""
    plan = settings()
    for name in list(os.environ):
        if name.startswith("CANVASGEN_"):
            monkeypatch.delenv(name)
    for name, value in {**deploy.environment(plan), **deploy.secrets(plan)}.items():
        monkeypatch.setenv(name, value)
    functions = Settings()  # type: ignore[call-arg]
    assert functions.storage_endpoint == "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com"
    assert functions.storage_region == "auto"
    assert functions.media_public_base_url == "https://media.canvas.example.com"
    assert functions.webhook_url == f"{BASE}/fal-webhook"
    assert functions.jwks_url == "https://abcdefghijklmnopqrst.supabase.co/auth/v1/.well-known/jwks.json"
    assert functions.database_prepared_statements is False
    assert functions.google_cloud_project == "canvasgen-prod"


def test_a_missing_tool_stops_the_deploy(capsys: pytest.CaptureFixture[str]) -> None:
    """A command that is not installed stops the deploy with 127 and says which one, without a traceback."""
    steps = [deploy.Step(("canvasgen-no-such-tool", "--version")), deploy.Step(("true",))]
    assert deploy.execute(steps) == 127
    err = capsys.readouterr().err
    assert "canvasgen-no-such-tool is not installed" in err and "Traceback" not in err
