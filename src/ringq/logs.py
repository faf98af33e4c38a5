"""Structured logging: library code logs events with `extra={...}` fields, never prints.

The formatter renders those fields as `key=value` pairs after the message (or one JSON object
per line with `json_lines=True`), so logs stay greppable and machine-readable without a
logging dependency.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, TextIO

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys() | {"message", "asctime"}
)


def get_logger(name: str) -> logging.Logger:
    """A logger under the `ringq` hierarchy (`ringq.worker`, `ringq.leader`, ...)."""
    return logging.getLogger(name if name.startswith("ringq") else f"ringq.{name}")


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a caller attached with `extra=`."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


def _render_value(value: Any) -> str:
    text = str(value)
    if not text or any(c.isspace() or c in '="' for c in text):
        return json.dumps(text)
    return text


class KeyValueFormatter(logging.Formatter):
    """`2026-01-01T00:00:00 INFO ringq.worker job failed job_id=7 error="boom"`."""

    def __init__(self) -> None:
        super().__init__(fmt="%(asctime)s %(levelname)s %(name)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = extra_fields(record)
        if fields:
            line += " " + " ".join(f"{k}={_render_value(v)}" for k, v in fields.items())
        return line


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and every `extra` field."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **extra_fields(record),
        }
        if record.exc_info:
            doc["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure(
    level: int | str = logging.INFO, *, json_lines: bool = False, stream: TextIO | None = None
) -> None:
    """Install one handler on the `ringq` logger (idempotent; used by the CLI, not by the library)."""
    logger = logging.getLogger("ringq")
    unconfigure()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLinesFormatter() if json_lines else KeyValueFormatter())
    handler._ringq_handler = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)


def unconfigure() -> None:
    """Remove the handler `configure` installed (the CLI's `main` can run many times in one process)."""
    logger = logging.getLogger("ringq")
    for handler in list(logger.handlers):
        if getattr(handler, "_ringq_handler", False):
            logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
