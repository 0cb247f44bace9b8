"""http and errors: every error becomes its status and JSON body in one place; nothing else leaks."""

from __future__ import annotations

import io
from collections.abc import Iterator

import flask
import pytest

from canvasgen import errors
from canvasgen.http import parse_body, serve
from canvasgen.models import SubmitRequest
from canvasgen.services import Services, use_services
from tests.unit.test_media import settings


def error_classes() -> list[type[errors.CanvasgenError]]:
    """Return the root error and every class below it."""
    found, pending = [], [errors.CanvasgenError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", error_classes(), ids=lambda c: c.__name__)
def test_every_error_maps_to_an_http_status_and_body(cls: type[errors.CanvasgenError]) -> None:
    """Each error class has a 4xx/5xx status and renders the documented body."""
    assert 400 <= cls.status <= 599
    body = cls("what went wrong", details={"field": "x"}).to_body()
    assert body == {
        "error": {"code": cls.default_code, "message": "what went wrong", "details": {"field": "x"}}
    }


@pytest.fixture
def app() -> Iterator[flask.Flask]:
    use_services(Services(settings()))
    app = flask.Flask(__name__)

    @app.route("/<kind>", methods=["GET", "POST", "OPTIONS"])
    def route(kind: str) -> flask.Response:
        def handler(request: flask.Request, services: Services) -> SubmitRequest:
            if kind == "boom":
                raise RuntimeError("secret detail from deep inside")
            return parse_body(request, SubmitRequest, 1000)

        return serve(flask.request, handler, ("POST",))

    yield app
    use_services(None)


def test_unexpected_errors_answer_500_without_details(app: flask.Flask) -> None:
    """An unexpected exception answers a generic 500; its message and trace stay in the log."""
    response = app.test_client().post("/boom", json={})
    assert response.status_code == 500
    assert response.json == {"error": {"code": "internal", "message": "an unexpected error occurred"}}
    assert b"secret" not in response.data and b"Traceback" not in response.data


def test_body_limit_is_checked_without_a_content_length(app: flask.Flask) -> None:
    """A chunked body over the limit answers 413 as one with a Content-Length does."""
    body = io.BytesIO(b"{" + b" " * 1200 + b"}")
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    response = app.test_client().post(
        "/ok", input_stream=body, headers=headers, environ_overrides={"wsgi.input_terminated": True}
    )
    assert response.status_code == 413 and response.json["error"]["code"] == "payload_too_large"


def test_wrong_method_answers_405(app: flask.Flask) -> None:
    """A method the function does not take answers 405 with the error body."""
    response = app.test_client().get("/ok")
    assert response.status_code == 405 and response.json["error"]["code"] == "method_not_allowed"
