"""The worker: consume micro-batches, run the pipeline, deliver events, then commit.

Commit order, per batch (nothing is committed until everything before it succeeded):
  1. upsert the batch's listings into Milvus (inside DedupPipeline.process)
  2. produce duplicate-found events and dead letters
  3. flush the producer and check every delivery report
  4. synchronously commit offset+1 for each partition in the batch
A crash anywhere before 4 means the batch is consumed again: the upserts are idempotent and the
event ids deterministic, so reprocessing is harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from infra.milvus.errors import StoreUnavailable
from stream.kafka import DeliveryError
from stream.worker.batching import MicroBatcher, OffsetTracker, PartitionKey, first_offsets
from stream.worker.consumer import BatchConsumer
from stream.worker.metrics import SummaryLog, WorkerMetrics
from stream.worker.processor import BatchProcessor

log = logging.getLogger(__name__)

RETRYABLE = (StoreUnavailable, DeliveryError)
JOIN_GRACE_S = 60.0  # --until-idle waits this much longer while the group join is still pending


class Worker(BatchConsumer):
    """The live consumer-group worker behind ``dedup run``."""

    def __init__(
        self,
        consumer: Consumer,
        processor: BatchProcessor,
        *,
        topic: str,
        batcher: MicroBatcher,
        metrics: WorkerMetrics | None = None,
        summary_interval_s: float = 5.0,
        retry_backoff_s: float = 1.0,
        retry_max_backoff_s: float = 30.0,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(consumer, processor, topic=topic, batcher=batcher, stop=stop)
        self.metrics = metrics or WorkerMetrics()
        self.summary = SummaryLog(self.metrics, summary_interval_s, clock)
        self.retry_backoff_s = retry_backoff_s
        self.retry_max_backoff_s = retry_max_backoff_s
        self.clock = clock
        self.offsets = OffsetTracker()
        self._backoff = retry_backoff_s
        self._assigned_at: float | None = None

    def run(self, *, max_events: int | None = None, until_idle: float | None = None) -> WorkerMetrics:
        """Runs until stopped, until ``max_events`` were consumed, or after ``until_idle`` quiet seconds."""
        self.consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        started = self.clock()
        idle_since = started
        try:
            while not self.stop.is_set() and not self._reached(max_events):
                limit = None if max_events is None else max_events - self._consumed()
                messages = self.next_batch(limit)
                self.summary.maybe_log(self.lag)
                if not messages:
                    if until_idle is not None and self._idle_for(idle_since, started) >= until_idle:
                        break
                    continue
                idle_since = self.clock()
                self._process_with_retry(messages)
        finally:
            self.consumer.close()
        return self.metrics

    def _process_with_retry(self, messages: list[Message]) -> None:
        """Process and commit one batch; a retryable failure rewinds to the batch's start instead.

        Rewinding (seek) rather than holding the batch keeps the consumer polling, so a long
        outage of Milvus or the broker never gets this worker evicted from its group.
        """
        started = self.clock()
        try:
            outcome = self.processor.process(messages)
            self._commit(outcome.next_offsets)
        except (*RETRYABLE, KafkaException) as exc:
            if isinstance(exc, KafkaException) and exc.args and exc.args[0].fatal():
                raise
            self.metrics.record_retry()
            log.warning("batch of %d failed, rewinding, retry in %.1fs: %s", len(messages), self._backoff, exc)
            self._rewind(first_offsets(messages))
            self.stop.wait(self._backoff)
            self._backoff = min(self._backoff * 2, self.retry_max_backoff_s)
            return
        self._backoff = self.retry_backoff_s
        self.metrics.record_batch(outcome.processed, outcome.dead_lettered, outcome.duplicates, self.clock() - started)
        self.metrics.record_stages(outcome.stage_seconds)
        self.metrics.record_photos(outcome.photos)

    def _rewind(self, offsets: dict[PartitionKey, int]) -> None:
        for (topic, partition), offset in offsets.items():
            try:
                self.consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:
                # Revoked meanwhile: the partition's new owner resumes from the committed offset.
                log.info("not rewinding %s[%d]: %s", topic, partition, exc)

    def _commit(self, offsets: dict[PartitionKey, int]) -> None:
        self.offsets.check(offsets)
        partitions = [TopicPartition(topic, partition, offset) for (topic, partition), offset in offsets.items()]
        self.consumer.commit(offsets=partitions, asynchronous=False)
        self.offsets.record(offsets)

    def _idle_for(self, idle_since: float, started: float) -> float:
        """Idle time counts from the first assignment: waiting for the group join is not idleness.

        Without any assignment the clock starts at ``started`` plus a grace period, so a worker
        that can never join still stops.
        """
        if self._assigned_at is None:
            return self.clock() - started - JOIN_GRACE_S
        return self.clock() - max(idle_since, self._assigned_at)

    def _consumed(self) -> int:
        return self.metrics.processed + self.metrics.dead_lettered

    def _reached(self, max_events: int | None) -> bool:
        return max_events is not None and self._consumed() >= max_events

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned_at = self.clock()
        log.info("assigned %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing")

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("revoked %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing")
        self.batcher.drop_partitions(partitions)
        self.offsets.forget(partitions)

    def lag(self) -> int | None:
        """Messages between our position and each assigned partition's end."""
        try:
            assignment = self.consumer.assignment()
            positions = self.consumer.position(assignment)
            total = 0
            for tp in positions:
                _low, high = self.consumer.get_watermark_offsets(tp, timeout=1.0)
                committed = self.offsets.committed.get((tp.topic, tp.partition))
                position = tp.offset if tp.offset >= 0 else (committed if committed is not None else _low)
                total += max(high - position, 0)
            return total
        except KafkaException:
            return None
