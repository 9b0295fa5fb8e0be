"""The worker's Prometheus series: stage latencies, cache hit rate, photo failures, series there from the start."""

from __future__ import annotations

import logging

import pytest

from stream.worker.metrics import SummaryLog, WorkerMetrics


class FakeCache:
    def __init__(self) -> None:
        self.counts = {("content", "hit"): 3, ("content", "miss"): 1, ("listing", "hit"): 0, ("listing", "miss"): 2}
        self.errors = 0

    def lookup_counts(self) -> dict[tuple[str, str], int]:
        return dict(self.counts)


def test_each_stage_is_observed_in_a_histogram_beside_its_total() -> None:
    metrics = WorkerMetrics()
    metrics.record_stages({"encode": 0.2, "upsert": 0.004})
    metrics.record_stages({"encode": 0.3})
    sample = metrics.registry.get_sample_value
    assert sample("dedup_stage_duration_seconds_count", {"stage": "encode"}) == 2
    assert sample("dedup_stage_duration_seconds_sum", {"stage": "encode"}) == pytest.approx(0.5)
    assert sample("dedup_stage_duration_seconds_bucket", {"stage": "upsert", "le": "0.005"}) == 1
    assert sample("dedup_stage_duration_seconds_bucket", {"stage": "encode", "le": "0.25"}) == 1
    assert sample("dedup_stage_seconds_total", {"stage": "encode"}) == pytest.approx(0.5)


def test_cache_lookups_are_read_from_the_cache_when_scraped() -> None:
    metrics, cache = WorkerMetrics(), FakeCache()
    metrics.watch_cache(cache)
    metrics.watch_cache(cache)  # a worker built twice on the same metrics: once is enough
    sample = metrics.registry.get_sample_value
    assert sample("dedup_cache_lookups_total", {"kind": "content", "result": "hit"}) == 3
    cache.counts[("content", "miss")] += 4
    cache.errors = 2
    assert sample("dedup_cache_lookups_total", {"kind": "content", "result": "miss"}) == 5
    assert sample("dedup_cache_errors_total") == 2


def test_without_a_cache_there_is_no_cache_series() -> None:
    metrics = WorkerMetrics()
    metrics.watch_cache(None)
    assert metrics.registry.get_sample_value("dedup_cache_errors_total") is None


def test_known_series_exist_at_zero_before_anything_happens() -> None:
    sample = WorkerMetrics().registry.get_sample_value
    assert sample("dedup_events_total", {"outcome": "dead_lettered"}) == 0
    assert sample("dedup_lifecycle_events_total", {"op": "updated"}) == 0
    assert sample("dedup_photos_total", {"outcome": "loaded"}) == 0


def test_photo_failures_are_counted_by_reason_and_shown_in_the_summary_line(caplog: pytest.LogCaptureFixture) -> None:
    metrics = WorkerMetrics()
    metrics.record_photos({"loaded": 5, "timeout": 2, "too_large": 1})
    assert metrics.photo_failures == 3
    assert metrics.registry.get_sample_value("dedup_photos_total", {"outcome": "timeout"}) == 2
    clock = iter([0.0, 10.0])
    summary = SummaryLog(metrics, interval_s=5, clock=lambda: next(clock))
    summary.maybe_log(lambda: 0)
    with caplog.at_level(logging.INFO, logger="stream.worker.metrics"):
        assert summary.maybe_log(lambda: 0)
    assert caplog.messages[-1].endswith("| photo failures 3")
