"""Shared fixtures: the test run's own local stack, on ports of its own so `make dev` can run beside it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from canvasgen_stack import cluster, schema
from canvasgen_stack.config import PROJECT_ROOT, StackSettings

TEST_PORTS = {
    "api_port": 55321,
    "db_port": 55322,
    "studio_port": 55323,
    "storage_port": 55326,
    "fal_port": 55327,
    "functions_port": 55328,
}


def _test_settings() -> StackSettings:
    ports = {
        key: int(os.environ.get(f"CANVASGEN_TEST_{key.upper()}", value)) for key, value in TEST_PORTS.items()
    }
    state_dir = Path(os.environ.get("CANVASGEN_TEST_STATE_DIR", PROJECT_ROOT / ".local" / "test"))
    return StackSettings(state_dir=state_dir, **ports)


@pytest.fixture(scope="session")
def stack_settings() -> StackSettings:
    """Settings of the test run's stack."""
    return _test_settings()


@pytest.fixture(scope="session")
def database(stack_settings: StackSettings) -> Iterator[str]:
    """A fresh cluster with the bootstrap, the migrations and the seed applied; yields its URL."""
    cluster.destroy(stack_settings)
    cluster.create(stack_settings)
    cluster.start(stack_settings)
    schema.prepare(stack_settings)
    yield stack_settings.database_url
    cluster.stop(stack_settings)
