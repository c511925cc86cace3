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


# Our packages log at the configured level; everything else is held to warnings.
OUR_LOGGERS = ("kbsvc", "api", "indexer", "embeddings")
# Libraries that bring their own plain-text handlers (uvicorn's dictConfig, jieba's console).
FOREIGN_HANDLERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "jieba")


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every logger to one stderr handler on the root, in `fmt` (idempotent).

    Our packages log at `level`; uvicorn's and jieba's own handlers are removed so their
    records reach the same handler instead of printing plain text beside it.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_FLAG, False)]:
        root.removeHandler(old)
    handler = _StderrHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    setattr(handler, _HANDLER_FLAG, True)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = True
    for name in FOREIGN_HANDLERS:
        logger = logging.getLogger(name)
        for foreign in list(logger.handlers):
            logger.removeHandler(foreign)
        logger.propagate = True
    logging.getLogger("jieba").setLevel(logging.WARNING)  # dictionary-loading chatter
