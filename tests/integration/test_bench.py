"""`dedup bench` end to end on a tiny catalog: its own embedded stack, every key, figures that make sense."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from stream.benchmark.report import missing_keys
from stream.commands.cli import main

if TYPE_CHECKING:
    from decider.bundle import ModelBundle

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.timeout(90)
def test_a_tiny_bench_reports_every_figure(baseline_model: ModelBundle, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--listings", "60", "--batch-size", "16", "--batch-timeout", "0.2", "--device", "cpu"]
    assert main([*argv, "--model", str(baseline_model.directory), "--json"]) == 0
    out, err = capsys.readouterr()
    figures = json.loads(out)  # one JSON object, nothing else on stdout

    assert missing_keys(figures) == []
    assert "worker" in err and "latency" in err  # the progress bars, on stderr
    assert figures["listings"] == 60 and figures["latency_listings"] == 20
    assert figures["worker_events_per_s"] > 0 and figures["encoder_titles_per_s"] > 0
    assert 0 < figures["ratio"] < 2
    assert figures["batch_sizes"]["max"] <= 16 and figures["batch_sizes"]["count"] >= 60 // 16
    assert "encode" in figures["stage_share"] and sum(figures["stage_share"].values()) == pytest.approx(1, abs=0.01)
    assert figures["offered_load_per_s"] == pytest.approx(figures["worker_events_per_s"] / 2, abs=0.1)
    latency = figures["latency_ms"]
    assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    assert figures["latency_unobserved"] == 0
    assert figures["image_images_per_s"] is None  # the baseline model has no image encoder
    assert 0 < figures["rss_before_mb"] <= figures["peak_rss_mb"]
    assert figures["machine"]["device"] == "cpu" and figures["machine"]["cpu_count"] >= 1
