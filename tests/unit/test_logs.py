"""logs: one JSON object per line in Cloud Logging's shape, with the generation's ids and the trace."""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import flask
import pytest

from canvasgen import logs
from canvasgen.errors import NotFound
from canvasgen.http import serve
from canvasgen.services import Services, use_services
from tests.unit.test_media import settings

TRACE_HEADER = "105445aa7843bc8bf206b12000100000/1;o=1"


class Lines:
    """The JSON lines the package's logger wrote during a test."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


@pytest.fixture
def lines() -> Iterator[Lines]:
    """Capture the package's log lines, formatted as in production."""
    logger = logging.getLogger(logs.LOGGER_NAME)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield Lines(stream)
    logger.removeHandler(handler)
    logger.setLevel(level)
    logger.propagate = propagate


def test_a_line_has_cloud_loggings_fields(lines: Lines) -> None:
    """Each record is one JSON object with severity, message, time and logger."""
    logs.get_logger("test").warning("media uploaded %s", "twice")
    (entry,) = lines.all()
    assert entry["severity"] == "WARNING"
    assert entry["message"] == "media uploaded twice"
    assert entry["logger"] == "canvasgen.test"
    assert entry["time"].endswith("+00:00")


def test_context_fields_reach_every_line_inside_the_block(lines: Lines) -> None:
    """Fields bound with context() are on each line inside the block, and gone after it."""
    log = logs.get_logger("test")
    with logs.context(projectId="p1", nodeId="video-1", jobId=None):
        log.info("loading state saved")
        with logs.context(jobId="j1"):
            log.info("submitted to provider")
        log.info("back outside")
    log.info("after")
    first, inner, outside, after = lines.all()
    assert first["projectId"] == "p1" and first["nodeId"] == "video-1" and "jobId" not in first
    assert inner["jobId"] == "j1" and inner["projectId"] == "p1"
    assert "jobId" not in outside
    assert "projectId" not in after


def test_bind_adds_fields_for_the_rest_of_the_block(lines: Lines) -> None:
    """bind() adds fields to later lines of the current block only."""
    log = logs.get_logger("test")
    with logs.context(projectId="p1"):
        log.info("before")
        logs.bind(requestId="r1", jobId=None)
        log.info("after bind")
    log.info("outside")
    before, bound, outside = lines.all()
    assert "requestId" not in before
    assert bound["requestId"] == "r1" and bound["projectId"] == "p1" and "jobId" not in bound
    assert "requestId" not in outside


def test_extra_fields_and_exceptions_are_kept(lines: Lines) -> None:
    """Fields passed as `extra` become keys; an exception's trace goes into `exception`."""
    log = logs.get_logger("test")
    try:
        raise ValueError("bad media")
    except ValueError:
        log.exception("unexpected error", extra={"status": 500, "errorCode": "internal"})
    (entry,) = lines.all()
    assert entry["severity"] == "ERROR"
    assert entry["status"] == 500 and entry["errorCode"] == "internal"
    assert "ValueError: bad media" in entry["exception"]


def test_values_that_are_not_json_are_written_as_text(lines: Lines) -> None:
    """A field JSON cannot encode (a UUID, a datetime) is written as its text, never dropped."""
    job = uuid.UUID(int=7)
    with logs.context(jobId=job):
        logs.get_logger("test").info("node updated")
    assert lines.all()[0]["jobId"] == str(job)


@pytest.mark.parametrize(
    ("header", "project", "expected"),
    [
        (TRACE_HEADER, "canvasgen-prod", "projects/canvasgen-prod/traces/105445aa7843bc8bf206b12000100000"),
        (
            "105445aa7843bc8bf206b12000100000",
            "canvasgen-prod",
            "projects/canvasgen-prod/traces/105445aa7843bc8bf206b12000100000",
        ),
        (TRACE_HEADER, None, None),
        (None, "canvasgen-prod", None),
        ("", "canvasgen-prod", None),
        ("../../evil/1", "canvasgen-prod", None),
    ],
)
def test_trace_field_from_the_trace_header(
    header: str | None, project: str | None, expected: str | None
) -> None:
    """X-Cloud-Trace-Context becomes `logging.googleapis.com/trace` only with a project and a sane id."""
    field = logs.trace_field(header, project)
    assert field == ({logs.TRACE_FIELD: expected} if expected else {})


def test_requests_log_with_their_trace(lines: Lines) -> None:
    """A request that carries a trace header logs its lines with the trace, and the next one without."""
    use_services(Services(settings(GOOGLE_CLOUD_PROJECT="canvasgen-prod")))
    app = flask.Flask(__name__)

    @app.route("/", methods=["POST"])
    def route() -> flask.Response:
        def handler(request: flask.Request, services: Services) -> flask.Response:
            logs.get_logger("test").info("inside the handler")
            raise NotFound("no such project", code="project_not_found")

        return serve(flask.request, handler, ("POST",))

    try:
        client = app.test_client()
        client.post("/", headers={"X-Cloud-Trace-Context": TRACE_HEADER})
        client.post("/")
    finally:
        use_services(None)
    traced = [entry for entry in lines.all() if logs.TRACE_FIELD in entry]
    assert [entry["message"] for entry in traced] == ["inside the handler", "request refused"]
    assert traced[0][logs.TRACE_FIELD] == "projects/canvasgen-prod/traces/105445aa7843bc8bf206b12000100000"
    assert traced[1]["errorCode"] == "project_not_found" and traced[1]["severity"] == "INFO"
    assert len(lines.all()) == 4


def test_configure_writes_json_to_stdout_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure() installs one JSON handler on stdout however often it is called."""
    logger = logging.getLogger(logs.LOGGER_NAME)
    monkeypatch.setattr(logger, "handlers", [])
    monkeypatch.setattr(logger, "propagate", logger.propagate)
    monkeypatch.setattr(logger, "level", logger.level)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    logs.configure()
    logs.configure()
    assert len(logger.handlers) == 1
    logs.get_logger("test").info("webhook verified")
    assert json.loads(stream.getvalue())["message"] == "webhook verified"
