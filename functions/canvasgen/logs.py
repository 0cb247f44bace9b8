"""Structured logs: one JSON object per line, in Cloud Logging's shape.

Fields bound with `context(...)` (requestId, projectId, nodeId, jobId) are added to every line
written inside the block, so the lines of one generation can be followed from submit to webhook.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

LOGGER_NAME = "canvasgen"
TRACE_FIELD = "logging.googleapis.com/trace"
_fields: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("log_fields", default={})  # noqa: B039
_RESERVED = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON line with `severity`, `message` and the bound fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        entry.update(_fields.get())
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure() -> None:
    """Send the package's logs to stdout as JSON lines (once per process)."""
    logger = logging.getLogger(LOGGER_NAME)
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def get_logger(name: str) -> logging.Logger:
    """Return a logger of the package."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}")


@contextmanager
def context(**fields: Any) -> Iterator[None]:
    """Add fields to every log line written inside the block."""
    merged = {**_fields.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _fields.set(merged)
    try:
        yield
    finally:
        _fields.reset(token)


def bind(**fields: Any) -> None:
    """Add fields to the log lines of the rest of the current block."""
    _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})


def trace_field(header: str | None, project: str | None) -> dict[str, str]:
    """Turn an `X-Cloud-Trace-Context` header into Cloud Logging's trace field."""
    if not header or not project:
        return {}
    trace_id = header.split("/", 1)[0].strip()
    if not trace_id.isalnum():
        return {}
    return {TRACE_FIELD: f"projects/{project}/traces/{trace_id}"}
