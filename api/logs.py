"""Structured JSON logs carrying the request id; request bodies and query strings never logged."""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

request_id_var: ContextVar[str] = ContextVar("kbsvc_request_id", default="")

# Extra LogRecord attributes that become JSON fields.
_FIELDS = ("request_id", "method", "route", "status", "duration_ms", "actor", "client", "event")
_HANDLER_FLAG = "_kbsvc_json_handler"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and the request fields present."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or request_id_var.get()
        if rid:
            out["request_id"] = rid
        for name in _FIELDS[1:]:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at emit time (pytest and daemons swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Attach one stderr handler to the `kbsvc` logger tree (idempotent, safe under pytest)."""
    logger = logging.getLogger("kbsvc")
    logger.setLevel(level)
    if any(getattr(h, _HANDLER_FLAG, False) for h in logger.handlers):
        return
    handler = _StderrHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    setattr(handler, _HANDLER_FLAG, True)
    logger.addHandler(handler)
