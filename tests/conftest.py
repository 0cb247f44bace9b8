"""Shared fixtures: the test run's own local stack, on ports of its own so `make dev` can run beside it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from canvasgen_stack import cluster, schema, supervisor
from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from tests.support import ALICE_ID, BOB_ID, Canvas, FalSimulator, User, create_canvas

# Ports of the test stack: the dev stack's layout moved by 1000, or by CANVASGEN_TEST_PORT_OFFSET.
DEV_PORTS = {
    "api_port": 54321,
    "db_port": 54322,
    "studio_port": 54323,
    "storage_port": 54326,
    "fal_port": 54327,
    "functions_port": 54328,
}


def _test_settings() -> StackSettings:
    offset = int(os.environ.get("CANVASGEN_TEST_PORT_OFFSET", "1000"))
    ports = {key: value + offset for key, value in DEV_PORTS.items()}
    default_state = PROJECT_ROOT / ".local" / f"test-{offset}"
    state_dir = Path(os.environ.get("CANVASGEN_TEST_STATE_DIR", default_state))
    # The tests call reconcile themselves, with thresholds short enough to wait for.
    timings = {"reconcile_interval_seconds": 0, "reconcile_after_seconds": 2, "job_timeout_seconds": 8}
    return StackSettings(state_dir=state_dir, **ports, **timings)


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


@pytest.fixture(scope="session")
def stack(stack_settings: StackSettings, database: str) -> Iterator[StackSettings]:
    """The whole local stack (database, storage, fal queue, functions, gateway) for the test run."""
    for name in ("storage", "fal", "functions", "gateway", "studio"):
        supervisor.stop_service(stack_settings, name)
    shutil.rmtree(stack_settings.path("storage"), ignore_errors=True)
    supervisor.up(stack_settings)
    yield stack_settings
    supervisor.down(stack_settings)


@pytest.fixture
def api(stack: StackSettings) -> Iterator[httpx.Client]:
    """An HTTP client of the functions, through the gateway."""
    with httpx.Client(base_url=stack.functions_url, timeout=60.0) as client:
        yield client


@pytest.fixture
def fal(stack: StackSettings) -> Iterator[FalSimulator]:
    """The local fal queue's admin API, with every fault switched off before and after the test."""
    simulator = FalSimulator(stack)
    simulator.set_faults({})
    yield simulator
    simulator.set_faults({})
    simulator.close()


@pytest.fixture
def db(database: str) -> Iterator[psycopg.Connection[DictRow]]:
    """A superuser connection to the test database (autocommit)."""
    with psycopg.connect(database, autocommit=True, row_factory=dict_row) as conn:
        yield conn


@pytest.fixture
def alice(stack: StackSettings) -> User:
    """The seeded demo user Alice, with a fresh access token."""
    return User(ALICE_ID, "alice@example.com", stack.user_token(ALICE_ID, "alice@example.com"))


@pytest.fixture
def bob(stack: StackSettings) -> User:
    """The seeded demo user Bob, with a fresh access token."""
    return User(BOB_ID, "bob@example.com", stack.user_token(BOB_ID, "bob@example.com"))


@pytest.fixture
def project(db: psycopg.Connection[DictRow], alice: User) -> Canvas:
    """A new project of Alice's with video and image nodes, so each test starts from a known canvas."""
    return create_canvas(db, alice.id, video_nodes=3, image_nodes=2)
