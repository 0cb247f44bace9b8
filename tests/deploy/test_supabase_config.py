"""supabase/config.toml: the Supabase CLI reads it, and it describes the local stack's ports and Realtime."""

from __future__ import annotations

import tomllib

from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from canvasgen_stack.schema import supabase_cli

CONFIG = PROJECT_ROOT / "supabase" / "config.toml"


def test_config_matches_the_local_stack() -> None:
    """Project id, API and database ports, PostgreSQL 15 and Realtime, as the local stack runs them."""
    config = tomllib.loads(CONFIG.read_text())
    defaults = StackSettings.model_fields
    assert config["project_id"] == "canvasgen"
    assert config["api"]["port"] == defaults["api_port"].default
    assert config["db"]["port"] == defaults["db_port"].default
    assert config["studio"]["port"] == defaults["studio_port"].default
    assert config["db"]["major_version"] == 15
    assert config["realtime"]["enabled"] is True
    assert config["db"]["migrations"]["enabled"] is True


def test_the_cli_accepts_the_config(database: str) -> None:
    """The pinned CLI loads the file and sees every migration applied to the test database."""
    result = supabase_cli(database, "migration", "list")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "config" not in result.stderr.lower()
    for migration in sorted((PROJECT_ROOT / "supabase" / "migrations").glob("*.sql")):
        version = migration.name.split("_", 1)[0]
        assert output.count(version) >= 2, f"{version} is not applied:\n{output}"
