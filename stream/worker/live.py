"""The worker: consume micro-batches, run the pipeline, deliver events, then commit.

Commit order, per batch (nothing is committed until everything before it succeeded):
  1. upsert the batch's listings into Milvus (inside DedupPipeline.finish)
  2. produce duplicate-found events and dead letters
  3. flush the producer and check every delivery report
  4. synchronously commit offset+1 for each partition in the batch
A crash anywhere before 4 means the batch is consumed again: the upserts are idempotent and the
event ids deterministic, so reprocessing is harmless.

Pipelined (the default), the next batch is consumed, parsed and encoded on a second thread while this
one goes through 1-4, so the encoder works while Milvus and Kafka do. Batches still reach Milvus one
after the other, in order, so each listing sees every listing stored before it; a batch whose partitions
are revoked while it is in flight is finished and committed inside the revocation, and a batch that fails
takes the one prepared behind it back with it (both are consumed again).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from infra.milvus.errors import StoreUnavailable
from stream.broker import BrokerError
from stream.kafka import DeliveryError
from stream.worker import faults
from stream.worker.batching import MicroBatcher, OffsetTracker, PartitionKey, first_offsets
from stream.worker.consumer import BatchConsumer
from stream.worker.health import WorkerHealth
from stream.worker.idle import IdleTimer
from stream.worker.metrics import SummaryLog, WorkerMetrics

if TYPE_CHECKING:  # the processor pulls in the model (torch): the worker's loop is tested without it
    from stream.worker.processor import BatchProcessor, PreparedBatch

log = logging.getLogger(__name__)

RETRYABLE = (StoreUnavailable, DeliveryError)
# --until-idle: this long without any assignment from the group is a failure, not idleness.
JOIN_LIMIT_S = 120.0
LAG_TIMEOUT_S = 1.0


@dataclass
class InFlight:
    """A consumed batch being prepared (parsed, encoded) on the prepare thread, not yet in Milvus."""

    messages: list[Message]
    prepared: Future[PreparedBatch]
    started: float

    def partitions(self) -> set[PartitionKey]:
        return {(m.topic(), m.partition()) for m in self.messages}


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
        health: WorkerHealth | None = None,
        summary_interval_s: float = 5.0,
        retry_backoff_s: float = 1.0,
        retry_max_backoff_s: float = 30.0,
        pipelined: bool = True,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(consumer, processor, topic=topic, batcher=batcher, stop=stop)
        self.metrics = metrics or WorkerMetrics()
        self.health = health or WorkerHealth()  # /healthz, /readyz (stream.worker.health)
        self.summary = SummaryLog(self.metrics, summary_interval_s, clock)
        self.retry_backoff_s = retry_backoff_s
        self.retry_max_backoff_s = retry_max_backoff_s
        self.clock = clock
        self.offsets = OffsetTracker()
        self._backoff = retry_backoff_s
        self.idle = IdleTimer(clock)
        self.pipelined = pipelined
        self._in_flight: InFlight | None = None
        self._preparing: ThreadPoolExecutor | None = None

    def run(self, *, max_events: int | None = None, until_idle: float | None = None) -> WorkerMetrics:
        """Runs until stopped, until ``max_events`` were consumed, or after ``until_idle`` idle seconds
        (polled with partitions assigned and nothing to give: stream.worker.idle)."""
        self.idle = IdleTimer(self.clock)
        self._preparing = ThreadPoolExecutor(1, thread_name_prefix="dedup-prepare")
        self.consumer.subscribe([self.topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        try:
            while not self.stop.is_set() and not self._reached(max_events):
                self.health.beat()  # a loop that stops turning (a call that never returns) fails /healthz
                messages = self._next_messages(max_events)
                self.summary.maybe_log(self.lag)
                upcoming = self._start(messages) if messages else None
                if self._in_flight is not None and not self._finish(self._in_flight, upcoming):
                    upcoming = None  # rewound with the batch that failed
                self._in_flight = upcoming
                if self._in_flight is not None and not self.pipelined:
                    self._finish(self._in_flight, None)
                    self._in_flight = None
                if self._in_flight is None and not messages and until_idle is not None:
                    if self._idle_enough(until_idle):
                        break
            if self._in_flight is not None and not self.stop.is_set():  # at max_events: finish the last one
                self._finish(self._in_flight, None)
            # Stopped: the batch in hand was finished; the one prepared behind it is consumed again after a restart.
        finally:
            self.health.stopped()
            self._in_flight = None  # an error left it uncommitted: it is consumed again after a restart
            self._preparing.shutdown(wait=True, cancel_futures=True)
            self.consumer.close()
        return self.metrics

    def _next_messages(self, max_events: int | None) -> list[Message]:
        """The next batch; with one in flight, only what is at hand (waiting would hold that one back)."""
        in_flight = len(self._in_flight.messages) if self._in_flight is not None else 0
        limit = None if max_events is None else max_events - self._consumed() - in_flight
        if limit is not None and limit <= 0:
            return []
        return self.next_batch(limit, wait=self._in_flight is None)

    def _start(self, messages: list[Message]) -> InFlight:
        assert self._preparing is not None
        return InFlight(messages, self._preparing.submit(self.processor.prepare, messages), self.clock())

    def _consume(self, count: int, timeout_s: float) -> list[Message]:
        started = self.clock()
        messages = super()._consume(count, timeout_s)
        self.idle.polled(started, self.clock(), got_messages=bool(messages))
        return messages

    def _idle_enough(self, until_idle: float) -> bool:
        """Idle long enough, and the broker agrees that nothing is left; never while waiting for the group."""
        waiting = self.idle.unjoined_for()
        if waiting > max(JOIN_LIMIT_S, until_idle):
            raise BrokerError(
                f"the consumer group gave this worker no partition assignment within {waiting:.0f} s",
                KafkaError._TIMED_OUT,
            )
        if self.idle.idle_s < until_idle:
            return False
        lag = self.lag()
        if lag == 0:
            return True
        # E.g. a broker that stopped answering: quiet polls are not the same as an empty topic.
        left = "the broker does not answer" if lag is None else f"{lag} messages are not consumed yet"
        log.warning("no messages for %.0f s but %s: not idle, still waiting", self.idle.idle_s, left)
        self.idle.busy()
        return False

    def _finish(self, batch: InFlight, upcoming: InFlight | None, *, in_callback: bool = False) -> bool:
        """Steps 1-4 for a prepared batch; False after a retryable failure, with the batch and ``upcoming``
        rewound to be consumed again.

        Rewinding (seek) rather than holding the batch keeps the consumer polling, so a long
        outage of Milvus or the broker never gets this worker evicted from its group.
        """
        try:
            outcome = self.processor.finish(batch.prepared.result())
            faults.before_commit()  # fault suite only: DEDUP_FAULT_KILL_BEFORE_COMMIT
            self._commit(outcome.next_offsets)
        except (*RETRYABLE, KafkaException) as exc:
            if isinstance(exc, KafkaException) and exc.args and exc.args[0].fatal():
                raise
            self.metrics.record_retry()
            log.warning("batch of %d failed, rewinding, retry in %.1fs: %s", len(batch.messages), self._backoff, exc)
            self._rewind(first_offsets([*batch.messages, *(upcoming.messages if upcoming else [])]))
            if upcoming is not None:
                upcoming.prepared.cancel()
            if not in_callback:  # a rebalance must not wait out the backoff
                self.stop.wait(self._backoff)
            self._backoff = min(self._backoff * 2, self.retry_max_backoff_s)
            return False
        self._backoff = self.retry_backoff_s
        self.metrics.record_batch(
            outcome.processed, outcome.dead_lettered, outcome.duplicates, self.clock() - batch.started
        )
        self.metrics.record_lifecycle(outcome.updates, outcome.deletes, outcome.retractions)
        self.metrics.record_stages(outcome.stage_seconds)
        self.metrics.record_photos(outcome.photos)
        return True

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

    def _consumed(self) -> int:
        return self.metrics.processed + self.metrics.dead_lettered

    def _reached(self, max_events: int | None) -> bool:
        return max_events is not None and self._consumed() >= max_events

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.idle.assigned((tp.topic, tp.partition) for tp in partitions)
        self.health.set("group", True, "joined")  # readiness: an empty assignment is still a member
        log.info("assigned %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing")

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        log.info("revoked %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing")
        self._settle_in_flight(partitions)
        self.batcher.drop_partitions(partitions)
        self.offsets.forget(partitions)
        self.idle.revoked((tp.topic, tp.partition) for tp in partitions)

    def _settle_in_flight(self, revoked: Sequence[TopicPartition]) -> None:
        """A batch in flight from a revoked partition is finished and committed now, while the partition is
        still ours; if that fails, the partitions it shares with us are rewound, and the batch being
        collected loses their messages (they come again after the rewind)."""
        batch = self._in_flight
        if batch is None or not batch.partitions() & {(tp.topic, tp.partition) for tp in revoked}:
            return
        self._in_flight = None
        if not self._finish(batch, None, in_callback=True):
            self.batcher.forget_collected(batch.partitions())

    def lag(self) -> int | None:
        """Messages between our position and each assigned partition's end; None if the broker does not say."""
        try:
            positions = self.consumer.position(self.consumer.assignment())
            starts = self._start_offsets([tp for tp in positions if tp.offset < 0])
            total = 0
            for tp in positions:
                low, high = self.consumer.get_watermark_offsets(tp, timeout=LAG_TIMEOUT_S)
                position = tp.offset if tp.offset >= 0 else starts.get((tp.topic, tp.partition), low)
                total += max(high - max(position, low), 0)
            return total
        except KafkaException:
            return None

    def _start_offsets(self, unconsumed: list[TopicPartition]) -> dict[PartitionKey, int]:
        """Where partitions we consumed nothing from start: our commit, else the group's on the broker
        (position() knows a partition only after its first message)."""
        starts = {(tp.topic, tp.partition): self.offsets.committed.get((tp.topic, tp.partition)) for tp in unconsumed}
        ask = [tp for tp in unconsumed if starts[(tp.topic, tp.partition)] is None]
        if ask:
            for tp in self.consumer.committed(ask, timeout=LAG_TIMEOUT_S):
                starts[(tp.topic, tp.partition)] = tp.offset
        return {key: offset for key, offset in starts.items() if offset is not None and offset >= 0}
