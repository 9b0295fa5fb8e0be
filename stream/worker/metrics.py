"""Worker metrics: Prometheus counters for scraping, and the periodic one-line summary."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)


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

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)
        log.info("metrics on http://0.0.0.0:%d/metrics", port)


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
            "events/s %.1f | processed %d | duplicates %d | retracted %d | lag %s | dlq %d | retries %d",
            rate,
            self.metrics.processed,
            self.metrics.duplicates,
            self.metrics.retractions,
            "?" if self.metrics.lag is None else self.metrics.lag,
            self.metrics.dead_lettered,
            self.metrics.retries,
        )
        self._last_at, self._last_total = now, total
        return True
