"""openapi: the OpenAPI 3.1 description matches the functions, the contract and the checked-in file."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import functions_framework
import pytest
from flask.testing import FlaskClient

from canvasgen import openapi
from canvasgen.routes import FUNCTIONS
from canvasgen.services import Services, use_services
from canvasgen_client import apidoc
from canvasgen_client.cli import main
from canvasgen_stack.config import PROJECT_ROOT
from tests.unit.test_http import error_classes
from tests.unit.test_media import settings

DOCUMENT = openapi.document()
MAIN = str(PROJECT_ROOT / "functions" / "main.py")
SOURCES = "\n".join(path.read_text() for path in (PROJECT_ROOT / "functions" / "canvasgen").glob("*.py"))
# The statuses README's HTTP contract lists for each function.
CONTRACT = {
    "submit": {202, 400, 401, 404, 409, 413, 502, 503},
    "fal-webhook": {200, 401, 503},
    "project": {200, 401, 404},
}


def operation(name: str) -> dict[str, Any]:
    (found,) = DOCUMENT["paths"][f"/{name}"].values()
    return dict(found)


def test_checked_in_document_is_current() -> None:
    """docs/openapi.json is exactly what the models and the table give (run `canvasgen openapi`)."""
    assert apidoc.DOCUMENT.read_text() == apidoc.render()


def test_check_option_reports_a_stale_file(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """`canvasgen openapi --check` fails on a stale file and passes once it is written."""
    target = tmp_path / "openapi.json"
    target.write_text("{}\n")
    assert main(["openapi", "--check", "--output", str(target)]) == 1
    assert main(["openapi", "--output", str(target)]) == 0
    assert main(["openapi", "--check", "--output", str(target)]) == 0
    assert json.loads(target.read_text())["openapi"] == "3.1.0"


def test_every_function_has_one_path() -> None:
    """Each function of routes.FUNCTIONS has exactly one path and operation, and nothing else is described."""
    assert set(DOCUMENT["paths"]) == {f"/{name}" for name in FUNCTIONS}
    assert all(len(methods) == 1 for methods in DOCUMENT["paths"].values())


@pytest.mark.parametrize(("name", "statuses"), CONTRACT.items())
def test_contract_statuses_are_described(name: str, statuses: set[int]) -> None:
    """Every status README's HTTP contract lists for a function is among its responses."""
    assert statuses <= {int(status) for status in operation(name)["responses"]}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_errors_use_the_error_body(name: str) -> None:
    """Every 4xx/5xx response is the error body, including 405 and 500 which any function can answer."""
    responses = operation(name)["responses"]
    errors_ = {status: body for status, body in responses.items() if int(status) >= 400}
    assert {"405", "500"} <= set(errors_)
    for body in errors_.values():
        assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


def test_error_body_schema_is_the_documented_shape() -> None:
    """ErrorBody is `{"error": {"code", "message", "details"?}}`."""
    schemas = DOCUMENT["components"]["schemas"]
    assert schemas["ErrorBody"]["required"] == ["error"]
    assert set(schemas["ErrorDetail"]["properties"]) == {"code", "message", "details"}
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message"}


def test_documented_error_codes_exist_in_the_code() -> None:
    """Every error code the table names is raised somewhere in the functions (no invented codes)."""
    defaults = {cls.default_code for cls in error_classes()}
    for op in openapi.OPERATIONS:
        for codes in (*op.errors.values(), *openapi.COMMON_ERRORS.values()):
            for code in codes:
                assert code in defaults or re.search(rf"[\"']{code}[\"']", SOURCES), f"{op.name}: {code}"


def test_bodies_are_camel_case() -> None:
    """Request and response schemas use the wire's camelCase names."""
    schemas = DOCUMENT["components"]["schemas"]
    assert {"projectId", "nodeId", "imageUrl", "aspectRatio"} <= set(schemas["SubmitRequest"]["properties"])
    assert set(schemas["SubmitAccepted"]["properties"]) == {"requestId", "jobId", "status"}
    assert "updatedAt" in schemas["ProjectView"]["properties"]


def test_every_reference_resolves() -> None:
    """Each `$ref` in the document points at a schema it defines."""
    text = json.dumps(DOCUMENT)
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text))
    assert refs and refs <= set(DOCUMENT["components"]["schemas"])


def test_security_schemes() -> None:
    """User functions take a bearer JWT; the webhook requires all four of fal's signature headers."""
    schemes = DOCUMENT["components"]["securitySchemes"]
    assert schemes["userToken"] == {
        **schemes["userToken"],
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert operation("submit")["security"] == [{"userToken": []}]
    (webhook,) = operation("fal-webhook")["security"]
    headers = {schemes[name]["name"] for name in webhook}
    assert headers == {
        "X-Fal-Webhook-Request-Id",
        "X-Fal-Webhook-User-Id",
        "X-Fal-Webhook-Timestamp",
        "X-Fal-Webhook-Signature",
    }
    assert all(schemes[name]["in"] == "header" for name in webhook)
    assert operation("reconcile")["security"] == [{"serviceRole": []}, {"schedulerOidc": []}]


@pytest.fixture
def clients() -> Iterator[dict[str, FlaskClient]]:
    """Each entry point in process, with settings that reach nothing."""
    services = Services(settings())
    use_services(services)
    yield {
        name: functions_framework.create_app(target=entry, source=MAIN).test_client()  # type: ignore[no-untyped-call]
        for name, entry in FUNCTIONS.items()
    }
    use_services(None)
    services.close()


@pytest.mark.parametrize("op", openapi.OPERATIONS, ids=lambda op: op.name)
def test_documented_method_is_the_one_served(op: openapi.Operation, clients: dict[str, FlaskClient]) -> None:
    """The documented method reaches the function (401 without credentials); any other answers 405."""
    client = clients[op.name]
    other = "get" if op.method == "post" else "post"
    assert client.open("/", method=other.upper()).status_code == 405
    assert client.open("/", method=op.method.upper(), data=b"{}").status_code == 401
