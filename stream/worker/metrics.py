"""Worker metrics: Prometheus counters for scraping, and the periodic one-line summary.

Every name registered here is listed in the README (Command line, `run`) and read by the Grafana
dashboard (infra/deploy/grafana/dashboards/listing-dedup.json; tests/unit/infra/test_dashboard.py keeps
the two in step). The worker's HTTP server (stream.worker.health) exposes ``registry``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# A stage's share of one micro-batch: from well under a millisecond (cache, decide) to seconds (encode on a CPU,
# a Milvus time tick, a photo download).
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
EVENT_OUTCOMES = ("processed", "dead_lettered")
LIFECYCLE_OPS = ("updated", "deleted")


class CacheCounts(Protocol):
    """What the embedding cache counts (infra.cache.EmbeddingCache): read at scrape time, so infra never
    imports this layer."""

    def lookup_counts(self) -> dict[tuple[str, str], int]: ...

    @property
    def errors(self) -> int: ...


class CacheCollector(Collector):
    """``dedup_cache_lookups_total{kind,result}`` and ``dedup_cache_errors_total`` from the cache's own counts."""

    def __init__(self, cache: CacheCounts) -> None:
        self.cache = cache

    def collect(self) -> Iterator[CounterMetricFamily]:
        lookups = CounterMetricFamily(
            "dedup_cache_lookups",
            "Redis embedding cache lookups: kind content (a title's vector) or listing (a candidate's), result hit"
            " or miss (a Redis failure reads as misses)",
            labels=["kind", "result"],
        )
        for (kind, result), count in sorted(self.cache.lookup_counts().items()):
            lookups.add_metric([kind, result], count)
        yield lookups
        yield CounterMetricFamily(
            "dedup_cache_errors", "Redis failures the cache swallowed (the worker carried on without it)",
            value=self.cache.errors,
        )


@dataclass
class WorkerMetrics:
    """Counts kept locally (for the summary line and tests) and mirrored to Prometheus."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    processed: int = 0
    dead_lettered: int = 0
    duplicates: int = 0
    batches: int = 0
    retries: int = 0
    updates: int = 0  # listing-updated events processed
    deletes: int = 0  # listing-deleted events processed
    retractions: int = 0  # duplicate-retracted events delivered
    lag: int | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)
    photos: dict[str, int] = field(default_factory=dict)  # "loaded" or the failure reason -> count

    def __post_init__(self) -> None:
        self._events = Counter("dedup_events", "Events consumed, by outcome", ["outcome"], registry=self.registry)
        self._duplicates = Counter("dedup_duplicates_found", "duplicate-found events emitted", registry=self.registry)
        self._retries = Counter(
            "dedup_batch_retries", "Batches retried after a retryable failure", registry=self.registry
        )
        self._lag = Gauge("dedup_consumer_lag", "Messages behind the partitions' end", registry=self.registry)
        self._batch_seconds = Histogram("dedup_batch_seconds", "Wall time per micro-batch", registry=self.registry)
        self._stage_seconds = Counter(
            "dedup_stage_seconds", "Time spent per pipeline stage", ["stage"], registry=self.registry
        )
        self._stage_duration = Histogram(
            "dedup_stage_duration_seconds", "Time per pipeline stage per micro-batch", ["stage"],
            buckets=STAGE_BUCKETS, registry=self.registry,
        )
        self._lifecycle = Counter(
            "dedup_lifecycle_events", "listing-updated and listing-deleted events processed", ["op"],
            registry=self.registry,
        )
        self._retractions = Counter(
            "dedup_duplicates_retracted", "duplicate-retracted events emitted", registry=self.registry
        )
        self._photos = Counter(
            "dedup_photos", "Listing photos by outcome: loaded, or why not (timeout, too_large, ...)", ["outcome"],
            registry=self.registry,
        )
        self._watching_cache = False
        self._known_series()

    def _known_series(self) -> None:
        """Series with known labels exist at 0 from the start: a rate() over them reads 0, not "no data"."""
        for outcome in EVENT_OUTCOMES:
            self._events.labels(outcome)
        for op in LIFECYCLE_OPS:
            self._lifecycle.labels(op)
        self._photos.labels("loaded")

    def watch_cache(self, cache: CacheCounts | None) -> None:
        """Exposes the embedding cache's hit and miss counts (none without a cache)."""
        if cache is not None and not self._watching_cache:  # a second registration would be refused
            self.registry.register(CacheCollector(cache))
            self._watching_cache = True

    @property
    def photo_failures(self) -> int:
        return sum(count for outcome, count in self.photos.items() if outcome != "loaded")

    def record_batch(self, processed: int, dead_lettered: int, duplicates: int, seconds: float) -> None:
        self.batches += 1
        self.processed += processed
        self.dead_lettered += dead_lettered
        self.duplicates += duplicates
        self._events.labels("processed").inc(processed)
        self._events.labels("dead_lettered").inc(dead_lettered)
        self._duplicates.inc(duplicates)
        self._batch_seconds.observe(seconds)

    def record_lifecycle(self, updates: int, deletes: int, retractions: int) -> None:
        """After a committed batch, beside record_batch: its updates, deletes and the retractions they caused."""
        self.updates += updates
        self.deletes += deletes
        self.retractions += retractions
        self._lifecycle.labels("updated").inc(updates)
        self._lifecycle.labels("deleted").inc(deletes)
        self._retractions.inc(retractions)

    def record_stages(self, seconds: dict[str, float]) -> None:
        """Where batch time goes (encode, upsert, search, deliver, ...), for tuning."""
        for stage, spent in seconds.items():
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + spent
            self._stage_seconds.labels(stage).inc(spent)
            self._stage_duration.labels(stage).observe(spent)

    def record_photos(self, outcomes: dict[str, int]) -> None:
        for outcome, count in outcomes.items():
            self.photos[outcome] = self.photos.get(outcome, 0) + count
            self._photos.labels(outcome).inc(count)

    def record_retry(self) -> None:
        self.retries += 1
        self._retries.inc()

    def record_lag(self, lag: int | None) -> None:
        self.lag = lag
        if lag is not None:
            self._lag.set(lag)


@dataclass
class SummaryLog:
    """Logs one line every ``interval_s``: events/s since the last line, totals, lag, DLQ."""

    metrics: WorkerMetrics
    interval_s: float
    clock: Callable[[], float] = time.monotonic
    _last_at: float | None = None
    _last_total: int = 0

    def maybe_log(self, lag_probe: Callable[[], int | None]) -> bool:
        now = self.clock()
        if self._last_at is None:
            self._last_at = now
            return False
        if now - self._last_at < self.interval_s:
            return False
        self.metrics.record_lag(lag_probe())
        total = self.metrics.processed + self.metrics.dead_lettered
        rate = (total - self._last_total) / (now - self._last_at)
        log.info(
            "events/s %.1f | processed %d | duplicates %d | retracted %d | lag %s | dlq %d | retries %d"
            " | photo failures %d",
            rate,
            self.metrics.processed,
            self.metrics.duplicates,
            self.metrics.retractions,
            "?" if self.metrics.lag is None else self.metrics.lag,
            self.metrics.dead_lettered,
            self.metrics.retries,
            self.metrics.photo_failures,
        )
        self._last_at, self._last_total = now, total
        return True
