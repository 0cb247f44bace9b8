"""Schemathesis against the published OpenAPI document: generated calls of every function."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from canvasgen import openapi
from canvasgen_stack.config import StackSettings
from tests.support import User


@pytest.fixture
def api_schema(stack: StackSettings) -> Any:
    """The functions' OpenAPI document, as the gateway serves it."""
    return schemathesis.openapi.from_dict(openapi.document())


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_calls_never_fail_the_server(case: Any, stack: StackSettings, alice: User) -> None:
    """Calls generated from the document, with a real user's token, never answer 5xx or break the contract."""
    headers = {**(case.headers or {}), "Authorization": f"Bearer {alice.token}"}
    if case.path == "/fal-webhook":
        headers.pop("Authorization")
    case.call_and_validate(base_url=stack.functions_url, headers=headers, checks=[not_a_server_error])
