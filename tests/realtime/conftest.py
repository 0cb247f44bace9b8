"""Fixtures of the realtime tests: one realtime server for the run, on a port of its own, and users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from canvasgen_stack.config import StackSettings
from tests.realtime.support import free_port, serve
from tests.support import ALICE_ID, BOB_ID


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """The realtime clients are asyncio programs."""
    return "asyncio"


@pytest.fixture(scope="session")
def realtime(stack_settings: StackSettings, database: str) -> Iterator[StackSettings]:
    """A realtime server of its own (beside any gateway the run starts); yields settings pointing at it."""
    with serve(stack_settings, free_port()) as served:
        yield served


@pytest.fixture
def alice_token(realtime: StackSettings) -> str:
    """A fresh access token of the seeded user Alice."""
    return realtime.user_token(ALICE_ID, "alice@example.com")


@pytest.fixture
def bob_token(realtime: StackSettings) -> str:
    """A fresh access token of the seeded user Bob."""
    return realtime.user_token(BOB_ID, "bob@example.com")
