"""The `dedup` console script as an operator runs it: separate processes, real services."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from stream.settings import Settings
from tests.streaming import committed_and_ends, publish, read, worker_env

pytestmark = pytest.mark.integration
DEDUP = [sys.executable, "-m", "stream.commands.cli"]


def cli_env(settings: Settings, milvus_uri: Path) -> dict[str, str]:
    """The same settings as the in-process tests, as the DEDUP_* variables an operator would set."""
    return worker_env(settings, milvus_uri, DEDUP_KAFKA_SESSION_TIMEOUT_MS="6000")


def test_publish_reports_bad_lines_and_sends_only_the_good_ones(pipeline_settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "listings.jsonl"
    source.write_bytes(
        b'{"listing_id": "a", "title": "Dyson V8 cordless vacuum"}\n'
        b"\n"
        b'{"listing_id": "b"}\n'
        b'{"listing_id": "c", "title": "Dyson V8 Absolute cordless vacuum cleaner"}\n'
        b"not json\n"
    )
    done = subprocess.run(
        [*DEDUP, "publish", str(source)], env=cli_env(pipeline_settings, tmp_path / "m.db"),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert f"{source}:3: title: Field required" in done.stderr
    assert f"{source}:5: not valid JSON" in done.stderr
    assert "published 2 events" in done.stdout
    published = read(pipeline_settings, pipeline_settings.topics.listings)
    assert sorted(orjson.loads(m.value())["listing_id"] for m in published) == ["a", "c"]
    assert sorted(m.key() for m in published) == [b"a", b"c"]


def test_publish_all_or_nothing_sends_nothing_when_a_line_is_bad(pipeline_settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "listings.jsonl"
    source.write_bytes(
        b'{"listing_id": "a", "title": "Dyson V8 cordless vacuum"}\n'
        b'{"listing_id": "b", "title": 5}\n'
        b'{"listing_id": "c", "title": "Dyson V8" "x"}\n'
    )
    done = subprocess.run(
        [*DEDUP, "publish", str(source), "--all-or-nothing"], env=cli_env(pipeline_settings, tmp_path / "m.db"),
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert f"{source}:2: title: Input should be a valid string, got number" in done.stderr
    assert f"{source}:3: not valid JSON: unexpected character, expected ',' or '}}' at column 41" in done.stderr
    assert "published 0 events" in done.stdout and "nothing was published" in done.stdout
    assert read(pipeline_settings, pipeline_settings.topics.listings) == []


def test_run_logs_a_summary_and_exits_cleanly_on_sigterm(pipeline_settings: Settings, tmp_path: Path) -> None:
    items = [{"listing_id": f"k{i}", "title": f"Nintendo Switch OLED console {c}"} for i, c in enumerate(["white", "neon", "white"])]
    publish(pipeline_settings, items)
    worker = subprocess.Popen(
        [*DEDUP, "run"], env=cli_env(pipeline_settings, tmp_path / "m.db"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            committed, ends = committed_and_ends(pipeline_settings)
            if committed == ends:
                break
            time.sleep(0.5)  # polling another process's progress: there is nothing to wait on
        assert committed == ends, "the worker did not commit everything in time"
        time.sleep(1.5)  # let at least one summary line be written
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 0, output
    assert "SIGTERM received" in output
    assert "events/s" in output and "lag 0" in output
    assert "processed 3 listings" in output
