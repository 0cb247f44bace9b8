"""Fixtures of the function tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient

from canvasgen.config import Settings
from canvasgen.services import Services, use_services
from canvasgen_stack.config import PROJECT_ROOT, StackSettings
from canvasgen_stack.services import functions_env

MAIN = str(PROJECT_ROOT / "functions" / "main.py")


@pytest.fixture
def in_process(stack: StackSettings) -> Iterator[Any]:
    """A factory of in-process clients of one entry point on the test stack, with chosen settings."""
    built: list[Services] = []

    def make(target: str, **overrides: Any) -> FlaskClient:
        env = {k.removeprefix("CANVASGEN_").lower(): v for k, v in functions_env(stack).items()}
        services = Services(Settings(**{**env, **overrides}))
        built.append(services)
        use_services(services)
        app = functions_framework.create_app(target=target, source=MAIN)  # type: ignore[no-untyped-call]
        return app.test_client()  # type: ignore[no-any-return]

    yield make
    use_services(None)
    for services in built:
        services.close()
