"""Structured JSON logs: one JSON object per line, and one line per gRPC call.

The standard library's :mod:`logging` with a JSON formatter, not structlog: every module of the
broker, the nodes and the crypto core already logs through ``logging.getLogger``, so one formatter
on the root handler turns all of it into JSON lines without touching those modules or adding a
dependency.

The per-call line (logger ``tongdao.calls``, message ``call``) carries only ``request_id``,
``caller``, ``service``, ``method``, ``code`` and ``duration_ms``: never a request's or reply's
contents, a grant token or a key. Messages of other loggers are the developers' own sentences,
which by the house rules never hold data values or secrets either.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import IO, Any

from tongdao.broker.ops.calls import CallRecord

CALL_LOGGER = "tongdao.calls"
CALL_FIELDS = ("request_id", "caller", "service", "method", "code", "duration_ms", "streaming")

QUIET_LOGGERS = ("alembic.runtime.plugins",)
"""Loggers whose INFO lines say nothing to an operator (Alembic's plugin set-up at every start)."""

# attributes every LogRecord has; anything else was passed with ``extra=`` and is logged
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON: time (UTC, ISO 8601), level, logger, message,
    the fields given with ``extra=``, and the exception's type and text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            data["error"] = type(record.exc_info[1]).__name__
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(
    level: str = "INFO", *, json_lines: bool = True, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every logger's records to ``stream`` (standard error) as JSON lines, or as plain
    text with ``json_lines=False``. Replaces the root logger's handlers; returns the new one."""
    handler = logging.StreamHandler(stream or sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler


class CallLog:
    """A :class:`~tongdao.broker.ops.calls.CallObserver` writing one log line per call."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger(CALL_LOGGER)

    def call_finished(self, record: CallRecord) -> None:
        level = logging.WARNING if record.code in ("INTERNAL", "UNKNOWN") else logging.INFO
        self._log.log(
            level,
            "call",
            extra={
                "request_id": record.request_id,
                "caller": record.caller,
                "service": record.service,
                "method": record.rpc,
                "code": record.code,
                "duration_ms": round(record.duration_seconds * 1000, 3),
                "streaming": record.streaming,
            },
        )

    def stream_opened(self, method: str) -> None:
        return None

    def stream_closed(self, method: str) -> None:
        return None
