"""Logging set-up for every ``dedup`` command: plain text lines, or one JSON object per line.

JSON (``DEDUP_LOG_FORMAT=json`` / ``--log-format json``) is for log shippers (Loki, Elasticsearch,
Cloud Logging): each line carries ``timestamp``, ``level``, ``logger`` and ``message``, plus ``exc_info``
for a traceback and any ``extra={...}`` fields. The formatter is python-json-logger's, not our own.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from stream.settings import SettingsError

LOG_FORMATS = ("text", "json")
LOG_FORMAT_VARIABLE = "DEDUP_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Library start-up noise, not our events.
CHATTY_LOGGERS = ("faiss.loader", "httpx")


def default_log_format() -> str:
    """``DEDUP_LOG_FORMAT``, lower-cased; ``text`` when unset (checked by ``configure_logging``)."""
    return os.environ.get(LOG_FORMAT_VARIABLE, "text").strip().lower() or "text"


def formatter(log_format: str) -> logging.Formatter:
    if log_format not in LOG_FORMATS:
        expected = ", ".join(LOG_FORMATS)
        raise SettingsError(f"invalid setting {LOG_FORMAT_VARIABLE}={log_format!r}: expected one of {expected}")
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )


def configure_logging(level: str, log_format: str, stream: TextIO | None = None) -> None:
    """Like ``logging.basicConfig``: a no-op where the root logger has handlers already (an embedding
    application's, pytest's), so the process's own logging set-up wins."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(log_format))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    for chatty in CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)
