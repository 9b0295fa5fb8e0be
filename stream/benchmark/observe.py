"""The worker as it runs in production, watched from inside: batch sizes, commit times, duplicate-found times.

Only two hooks, both after the production code has done its part: when a batch's duplicate-found events
are acknowledged by the broker (``deliver``) and when its offsets are committed (``_commit``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from confluent_kafka import Message

from stream.events import DuplicateFound, DuplicateRetracted
from stream.worker.batching import PartitionKey
from stream.worker.live import Worker
from stream.worker.processor import BatchProcessor, PreparedBatch, ProcessedBatch
from stream.worker.runtime import Runtime

QUIET_SUMMARY_S = 3_600.0  # the progress bar says how far it is; the summary line would break it up


@dataclass
class BatchLog:
    """What the benchmark reads off the worker, on one clock."""

    clock: Callable[[], float] = time.monotonic
    on_committed: Callable[[int], None] | None = None  # e.g. a progress bar's update
    sizes: list[int] = field(default_factory=list)
    first_started: float | None = None  # the first batch in hand (joining the group is not counted)
    last_committed: float | None = None
    committed_at: dict[str, float] = field(default_factory=dict)  # listing id -> its batch's commit
    duplicate_at: dict[str, float] = field(default_factory=dict)  # listing id -> its duplicate-found acknowledged
    _in_hand: list[str] = field(default_factory=list)

    def started(self) -> None:
        if self.first_started is None:
            self.first_started = self.clock()

    def finishing(self, listing_ids: Sequence[str]) -> None:
        """The batch whose offsets the next commit covers (batches are finished and committed in order)."""
        self._in_hand = list(listing_ids)

    def delivered(self, listing_ids: Sequence[str]) -> None:
        now = self.clock()
        for listing_id in listing_ids:
            self.duplicate_at.setdefault(listing_id, now)

    def committed(self) -> None:
        now = self.clock()
        for listing_id in self._in_hand:
            self.committed_at.setdefault(listing_id, now)
        self.sizes.append(len(self._in_hand))
        self.last_committed = now
        if self.on_committed is not None:
            self.on_committed(len(self._in_hand))
        self._in_hand = []

    def elapsed_s(self) -> float | None:
        """From the first batch in hand to the last commit."""
        if self.first_started is None or self.last_committed is None:
            return None
        return self.last_committed - self.first_started


class ObservedProcessor(BatchProcessor):
    def __init__(self, runtime: Runtime, log: BatchLog) -> None:
        settings = runtime.settings
        super().__init__(
            runtime.pipeline,
            runtime.producer,
            duplicates_topic=settings.topics.duplicates,
            dlq_topic=settings.topics.dlq,
            max_title_chars=settings.worker.max_title_chars,
        )
        self.log = log

    def prepare(self, messages: Sequence[Message]) -> PreparedBatch:
        self.log.started()
        return super().prepare(messages)

    def finish(self, batch: PreparedBatch) -> ProcessedBatch:
        self.log.finishing([_key(message) for message in batch.messages])
        return super().finish(batch)

    def deliver(self, events: Sequence[DuplicateFound | DuplicateRetracted]) -> None:
        super().deliver(events)  # returns once the broker acknowledged every event
        self.log.delivered([event.listing_id for event in events if isinstance(event, DuplicateFound)])


class ObservedWorker(Worker):
    def __init__(self, runtime: Runtime, log: BatchLog) -> None:
        worker = runtime.settings.worker
        super().__init__(
            runtime.consumer(),
            ObservedProcessor(runtime, log),
            topic=runtime.settings.topics.listings,
            batcher=runtime.batcher(),
            summary_interval_s=QUIET_SUMMARY_S,
            retry_backoff_s=worker.retry_backoff_s,
            retry_max_backoff_s=worker.retry_max_backoff_s,
            pipelined=runtime.pipelined(),
        )
        self.log = log

    def _commit(self, offsets: dict[PartitionKey, int]) -> None:
        super()._commit(offsets)
        self.log.committed()

    def polling_idle(self) -> bool:
        """Joined, assigned, and polled at least once with nothing to give: ready for a paced feed."""
        return self.idle.joined and bool(self.idle.assignment) and self.idle.idle_s > 0


def _key(message: Message) -> str:
    key = message.key()
    return key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key)
