"""`dedup run --metrics-port`: /healthz, /readyz and /metrics on one port, JSON logs, against the real services."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.stack.services import free_port
from stream.settings import Settings
from tests.http_probe import http_get
from tests.streaming import committed_and_ends, publish, worker_env

pytestmark = pytest.mark.integration
DEDUP = [sys.executable, "-m", "stream.commands.cli"]
START_S = 120.0  # model load and group join on the 2 shared cores


def wait_for(condition, what: str, timeout_s: float = START_S) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout_s:.0f} s"
        time.sleep(0.2)  # polling another process: there is nothing to wait on


def test_readyz_turns_200_and_metrics_carry_the_series(pipeline_settings: Settings, tmp_path: Path) -> None:
    colours = ["black", "silver", "black"]
    items = [{"listing_id": f"h{i}", "title": f"Sony WH-1000XM5 headphones {c}"} for i, c in enumerate(colours)]
    publish(pipeline_settings, items)
    port = free_port()
    env = worker_env(pipeline_settings, tmp_path / "m.db", DEDUP_WORKER_METRICS_PORT=str(port), DEDUP_LOG_FORMAT="json")
    worker = subprocess.Popen([*DEDUP, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: http_get(port, "/healthz")[0] == 200, "/healthz")
        early = http_get(port, "/readyz")  # the model takes seconds to load; the server is up before it
        wait_for(lambda: http_get(port, "/readyz")[0] == 200, "/readyz 200")
        wait_for(lambda: committed_and_ends(pipeline_settings)[0] == committed_and_ends(pipeline_settings)[1], "commit")
        status, ready = http_get(port, "/readyz")
        _, alive = http_get(port, "/healthz")
        _, metrics = http_get(port, "/metrics")
        worker.send_signal(signal.SIGTERM)
        stdout, stderr = worker.communicate(timeout=60)
    finally:
        worker.kill()

    assert worker.returncode == 0, stderr[-2000:]
    assert early[0] in (200, 503) and (early[0] == 200 or "waiting" in early[1])
    assert status == 200 and ready.splitlines()[0].startswith("model ok") and "group ok (joined)" in ready
    assert alive.startswith("alive: last worker loop beat")
    assert 'dedup_events_total{outcome="processed"} 3.0' in metrics
    assert 'dedup_duplicates_found_total' in metrics and "dedup_consumer_lag" in metrics
    assert 'dedup_stage_duration_seconds_bucket{le="+Inf",stage="encode"}' in metrics
    assert 'dedup_cache_lookups_total{kind="content",result="miss"}' in metrics
    assert 'dedup_photos_total{outcome="loaded"} 0.0' in metrics
    logs = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert logs and all({"level", "logger", "message", "timestamp"} <= set(entry) for entry in logs)
    assert any(entry["message"].startswith("events/s") for entry in logs)
    assert not [line for line in stderr.splitlines() if line.strip() and not line.startswith("{")], "non-JSON lines"
    assert "processed 3 listings" in stdout
