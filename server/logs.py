"""Server logging: human-readable lines (`--log-human`, stderr by default) and JSON lines (`--log-json`).

Structured fields ride on a record as `extra=fields(key=value, ...)`. A JSON line is one object:
`time` (RFC 3339, UTC), `level`, `logger`, `message` and `fields`. A human line is
`2026-01-02 03:04:05.678 [info] logger: message  key=value ...`. Nothing here decides what is logged;
callers never pass tokens, passwords or message bodies as fields.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from server.config import ServerConfig
from server.options import ConfigError

FIELDS = "inbox_fields"
_STD_STREAMS = {"/dev/stderr": "stderr", "/dev/stdout": "stdout"}
_NOWHERE = frozenset({"", "/dev/null"})


def fields(**values: object) -> dict[str, Any]:
    """`extra=` for a log call: the structured fields of this event."""
    return {FIELDS: values}


def _fields_of(record: logging.LogRecord) -> Mapping[str, object]:
    values = getattr(record, FIELDS, None)
    return values if isinstance(values, Mapping) else {}


def _level(record: logging.LogRecord) -> str:
    return "warn" if record.levelno == logging.WARNING else record.levelname.lower()


class JsonFormatter(logging.Formatter):
    """One JSON object per event."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        event: dict[str, object] = {
            "time": stamp.replace("+00:00", "Z"),
            "level": _level(record),
            "logger": record.name,
            "message": record.getMessage(),
            "fields": dict(_fields_of(record)),
        }
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str, ensure_ascii=False)


class HumanFormatter(logging.Formatter):
    """`time [level] logger: message  key=value ...`, local time as an operator reads it."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one human-readable line (a traceback follows on its own lines)."""
        stamp = datetime.fromtimestamp(record.created).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        line = f"{stamp} [{_level(record)}] {record.name}: {record.getMessage()}"
        extra = " ".join(f"{key}={_human_value(value)}" for key, value in _fields_of(record).items())
        if extra:
            line += "  " + extra
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _human_value(value: object) -> str:
    text = str(value)
    return json.dumps(text) if (not text or any(c.isspace() or c in '"=' for c in text)) else text


LOG_FILE_BYTES = 5 * 1024 * 1024
LOG_FILE_BACKUPS = 3


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A log file rotated by size (`.1` ... `.3` kept) whose every file is created 0600.

    The log names users and routes: private, like the database. Rotation keeps a server that runs for
    months (inbox-tui's local server) from filling the disk.
    """

    def _open(self) -> Any:
        old_umask = os.umask(0o077)
        try:
            return super()._open()
        finally:
            os.umask(old_umask)


def _handler(path: str) -> logging.Handler:
    stream_name = _STD_STREAMS.get(path)
    if stream_name is not None:
        stream: TextIO = getattr(sys, stream_name)
        return logging.StreamHandler(stream)
    if not os.path.isfile(path) and os.path.exists(path):
        return logging.FileHandler(path, mode="a", encoding="utf-8")  # a FIFO or device: no rotation
    return PrivateRotatingFileHandler(path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8")


def configure(config: ServerConfig) -> None:
    """Point the root logger at the configured outputs and level (replacing earlier handlers).

    Raises ConfigError when a log file cannot be opened.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(config.log_level.upper())
    outputs = [("--log-human", config.log_human, HumanFormatter()), ("--log-json", config.log_json, JsonFormatter())]
    for flag, path, formatter in outputs:
        if path in _NOWHERE:
            continue
        try:
            handler = _handler(path)
        except OSError as exc:
            raise ConfigError(f"invalid {flag}: cannot open {path}: {exc.strerror}") from None
        handler.setFormatter(formatter)
        root.addHandler(handler)
    if not root.handlers:
        root.addHandler(logging.NullHandler())
    # uvicorn's start/stop chatter says nothing our own lines do not; its errors still come through.
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING if config.log_level != "debug" else logging.DEBUG)
