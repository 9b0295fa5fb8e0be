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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from infra.milvus_store import StoreUnavailable
from stream.events import DeadLetter, InvalidEvent, SourcePosition, encode_event, parse_listing
from stream.kafka import DeliveryError, EventProducer
from stream.metrics import SummaryLog, WorkerMetrics
from stream.pipeline import DedupPipeline, Incoming

log = logging.getLogger(__name__)

RETRYABLE = (StoreUnavailable, DeliveryError)
JOIN_GRACE_S = 60.0  # --until-idle waits this much longer while the group join is still pending
PartitionKey = tuple[str, int]


class OffsetRegressionError(RuntimeError):
    """A commit would move a partition's offset backwards: a bug, never silently accepted."""


@dataclass(frozen=True)
class BatchOutcome:
    processed: int
    dead_lettered: int
    duplicates: int
    first_offsets: dict[PartitionKey, int]
    next_offsets: dict[PartitionKey, int]
    stage_seconds: dict[str, float] = field(default_factory=dict)


class MicroBatcher:
    """Collects up to ``max_size`` messages or until ``timeout_s`` passes, whichever comes first."""

    def __init__(self, max_size: int, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_size = max_size
        self.timeout_s = timeout_s
        self.clock = clock
        self.buffer: list[Message] = []

    def collect(self, consume: Callable[[int, float], list[Message]], limit: int | None = None) -> list[Message]:
        size = min(self.max_size, limit) if limit is not None else self.max_size
        deadline = self.clock() + self.timeout_s
        self.buffer = []
        while len(self.buffer) < size:
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            self.buffer.extend(usable(consume(size - len(self.buffer), remaining)))
        batch, self.buffer = self.buffer, []
        return batch

    def drop_partitions(self, partitions: Sequence[TopicPartition]) -> None:
        """Called on revocation: messages of partitions we no longer own must not be processed."""
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        self.buffer = [m for m in self.buffer if (m.topic(), m.partition()) not in revoked]


def usable(messages: list[Message]) -> list[Message]:
    """Drops consumer-side error messages after surfacing them; fatal errors raise."""
    good = []
    for message in messages:
        error = message.error()
        if error is None:
            good.append(message)
        elif error.fatal():
            raise KafkaException(error)
        elif error.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error: %s", error.str())
    return good


class BatchProcessor:
    """Steps 1-3 of the commit order for one batch; shared by the live worker and replay."""

    def __init__(
        self,
        pipeline: DedupPipeline,
        producer: EventProducer,
        *,
        duplicates_topic: str,
        dlq_topic: str,
        max_title_chars: int,
    ) -> None:
        self.pipeline = pipeline
        self.producer = producer
        self.duplicates_topic = duplicates_topic
        self.dlq_topic = dlq_topic
        self.max_title_chars = max_title_chars

    def process(self, messages: Sequence[Message]) -> BatchOutcome:
        incoming, dead_letters = self.parse(messages)
        report = self.pipeline.process(incoming)
        for letter in dead_letters:
            self.producer.send(self.dlq_topic, letter.key, letter.value, letter.headers())
        with report.timed("deliver"):
            for event in report.duplicates:
                self.producer.send(self.duplicates_topic, event.listing_id, encode_event(event))
            self.producer.flush()
        return BatchOutcome(
            processed=len(incoming),
            dead_lettered=len(dead_letters),
            duplicates=len(report.duplicates),
            first_offsets=first_offsets(messages),
            next_offsets=next_offsets(messages),
            stage_seconds=report.stage_seconds,
        )

    def parse(self, messages: Sequence[Message]) -> tuple[list[Incoming], list[DeadLetter]]:
        incoming: list[Incoming] = []
        dead_letters: list[DeadLetter] = []
        for message in messages:
            source = SourcePosition(topic=message.topic(), partition=message.partition(), offset=message.offset())
            try:
                listing = parse_listing(message.value(), max_title_chars=self.max_title_chars)
            except InvalidEvent as exc:
                dead_letters.append(DeadLetter(message.key(), message.value(), str(exc), source))
                continue
            incoming.append(Incoming(listing=listing, source=source, timestamp_ms=message_timestamp_ms(message)))
        return incoming, dead_letters


def message_timestamp_ms(message: Message) -> int:
    _kind, timestamp = message.timestamp()
    return timestamp if timestamp and timestamp > 0 else int(time.time() * 1000)


def first_offsets(messages: Sequence[Message]) -> dict[PartitionKey, int]:
    firsts: dict[PartitionKey, int] = {}
    for message in messages:
        key = (message.topic(), message.partition())
        firsts[key] = min(firsts.get(key, message.offset()), message.offset())
    return firsts


def next_offsets(messages: Sequence[Message]) -> dict[PartitionKey, int]:
    nexts: dict[PartitionKey, int] = {}
    for message in messages:
        key = (message.topic(), message.partition())
        nexts[key] = max(nexts.get(key, 0), message.offset() + 1)
    return nexts


@dataclass
class OffsetTracker:
    committed: dict[PartitionKey, int] = field(default_factory=dict)

    def check(self, offsets: dict[PartitionKey, int]) -> None:
        for key, offset in offsets.items():
            if offset < self.committed.get(key, -1):
                raise OffsetRegressionError(f"{key[0]}[{key[1]}]: commit {offset} < committed {self.committed[key]}")

    def record(self, offsets: dict[PartitionKey, int]) -> None:
        self.committed.update(offsets)

    def forget(self, partitions: Sequence[TopicPartition]) -> None:
        for tp in partitions:
            self.committed.pop((tp.topic, tp.partition), None)


class Worker:
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
        self.consumer = consumer
        self.processor = processor
        self.topic = topic
        self.batcher = batcher
        self.metrics = metrics or WorkerMetrics()
        self.summary = SummaryLog(self.metrics, summary_interval_s, clock)
        self.retry_backoff_s = retry_backoff_s
        self.retry_max_backoff_s = retry_max_backoff_s
        self.stop = stop or threading.Event()
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
                messages = self.batcher.collect(self._consume, limit)
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

    def _consume(self, count: int, timeout_s: float) -> list[Message]:
        return self.consumer.consume(num_messages=count, timeout=timeout_s)

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
