"""Logging for the worker and the CLI: JSON lines (one event per line) or plain text."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_FIELDS = ("job_id", "attempt", "queue", "type", "executor", "duration", "error_reason", "queues")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "level": record.levelname.lower(),
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in _FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{key}={getattr(record, key)}"
            for key in _FIELDS
            if getattr(record, key, None) is not None
        )
        base = f"{datetime.fromtimestamp(record.created).strftime('%H:%M:%S')} {record.levelname.lower():7} {record.getMessage()}"
        return f"{base} {extras}".rstrip()


def setup(log_format: str | None = None, level: int = logging.INFO) -> None:
    """json or text; by default text on a terminal and JSON otherwise."""
    fmt = log_format or ("text" if sys.stderr.isatty() else "json")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger("collab")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
