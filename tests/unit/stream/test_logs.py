"""Log formats: text lines, or JSON objects a log shipper parses."""

from __future__ import annotations

import io
import json
import logging

import pytest

from stream.commands.cli import build_parser
from stream.logs import configure_logging, default_log_format, formatter
from stream.settings import SettingsError


def test_a_json_line_parses_and_carries_level_logger_and_message() -> None:
    record = logging.LogRecord("stream.worker.live", logging.WARNING, __file__, 1, "batch of %d failed", (3,), None)
    line = formatter("json").format(record)
    parsed = json.loads(line)
    fields = (parsed["level"], parsed["logger"], parsed["message"])
    assert fields == ("WARNING", "stream.worker.live", "batch of 3 failed")
    assert parsed["timestamp"][:2] == "20" and "\n" not in line


def test_extra_fields_and_tracebacks_stay_inside_the_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    record.partition = 2
    parsed = json.loads(formatter("json").format(record))
    assert parsed["partition"] == 2 and "ValueError: boom" in parsed["exc_info"]


def test_configure_logging_installs_the_json_formatter(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # as in a fresh process (pytest's own handlers put back after)
    monkeypatch.setattr(root, "level", root.level)
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    logging.getLogger("dedup.test").info("hello %s", "there")
    assert json.loads(out.getvalue().splitlines()[-1])["message"] == "hello there"


def test_a_bad_format_is_one_settings_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_LOG_FORMAT", "XML")
    assert default_log_format() == "xml"
    with pytest.raises(SettingsError, match="DEDUP_LOG_FORMAT='xml'"):
        formatter(default_log_format())


def test_log_format_flag_and_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_parser().parse_args(["run", "--log-format", "JSON"]).log_format == "json"
    monkeypatch.setenv("DEDUP_LOG_FORMAT", "json")
    assert build_parser().parse_args(["check"]).log_format == "json"
