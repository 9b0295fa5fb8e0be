"""Replay: reprocess a range of the listings topic for backfills, apart from the live group.

The range is fixed when replay starts (start offsets from a timestamp or explicit offsets; end
offsets from ``--to-timestamp`` or the partitions' ends at that moment), so a replay always
terminates even while producers keep writing. Partitions are *assigned*, never subscribed, so
the live consumer group is not rebalanced and its committed offsets are never touched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, TopicPartition

from stream.kafka import end_offsets, topic_partitions
from stream.worker.batching import MicroBatcher
from stream.worker.consumer import BatchConsumer

if TYPE_CHECKING:  # the processor pulls in the model (torch); `dedup`'s error handling imports this module
    from stream.worker.processor import BatchProcessor

log = logging.getLogger(__name__)

PARTITION_END = -1  # offsets_for_times answer: no message at or after the timestamp


class ReplayError(ValueError):
    """A replay range that cannot be served; one line for the operator."""


@dataclass(frozen=True)
class PartitionRange:
    partition: int
    start: int
    end: int  # exclusive

    @property
    def size(self) -> int:
        return max(self.end - self.start, 0)


@dataclass(frozen=True)
class ReplayResult:
    processed: int
    dead_lettered: int
    duplicates: int
    ranges: tuple[PartitionRange, ...]


def parse_timestamp_ms(text: str) -> int:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ReplayError(f"not an ISO 8601 timestamp: {text!r} (e.g. 2026-11-26T10:00:00Z)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


def parse_offsets(text: str) -> dict[int, int]:
    """``"0:120,2:40"`` -> {0: 120, 2: 40}."""
    offsets: dict[int, int] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        partition, sep, offset = part.partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit():
            raise ReplayError(f"bad partition offset {part!r}: expected PARTITION:OFFSET, e.g. 0:120")
        offsets[int(partition)] = int(offset)
    if not offsets:
        raise ReplayError("no PARTITION:OFFSET given")
    return offsets


def plan_ranges(
    consumer: Consumer,
    client: dict[str, Any],
    topic: str,
    *,
    from_timestamp_ms: int | None = None,
    from_offsets: dict[int, int] | None = None,
    to_timestamp_ms: int | None = None,
    timeout_s: float = 10.0,
) -> list[PartitionRange]:
    """Start and end offsets per partition, fixed now."""
    partitions = topic_partitions(consumer, topic, timeout_s)
    unknown = sorted(set(from_offsets or {}) - set(partitions))
    if unknown:
        raise ReplayError(f"topic {topic!r} has partitions {partitions}, not {unknown}")
    ends = end_offsets(client, topic, partitions, timeout_s)
    if to_timestamp_ms is not None:
        ends = _resolve(consumer, topic, {p: to_timestamp_ms for p in partitions}, ends, timeout_s)
    if from_timestamp_ms is not None:
        starts = _resolve(consumer, topic, {p: from_timestamp_ms for p in partitions}, ends, timeout_s)
    else:
        starts = {p: (from_offsets or {}).get(p, ends[p]) for p in partitions}
    return [PartitionRange(p, starts[p], ends[p]) for p in partitions if starts[p] < ends[p]]


def _resolve(
    consumer: Consumer, topic: str, timestamps: dict[int, int], ends: dict[int, int], timeout_s: float
) -> dict[int, int]:
    """First offset at or after each timestamp; the partition's end where there is none."""
    query = [TopicPartition(topic, p, ts) for p, ts in timestamps.items()]
    found = consumer.offsets_for_times(query, timeout=timeout_s)
    return {tp.partition: ends[tp.partition] if tp.offset == PARTITION_END else tp.offset for tp in found}


class Replayer(BatchConsumer):
    """Processes fixed offset ranges on assigned partitions; commits only to its own group, if asked."""

    def __init__(
        self,
        consumer: Consumer,
        processor: BatchProcessor,
        *,
        topic: str,
        batcher: MicroBatcher,
        commit: bool,
        stop: threading.Event | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(consumer, processor, topic=topic, batcher=batcher, stop=stop)
        self.commit = commit
        self.on_progress = on_progress or (lambda _n: None)

    def run(self, ranges: list[PartitionRange]) -> ReplayResult:
        ends = {r.partition: r.end for r in ranges}
        positions = {r.partition: r.start for r in ranges}
        self.consumer.assign([TopicPartition(self.topic, r.partition, r.start) for r in ranges])
        totals = [0, 0, 0]
        try:
            while not self.stop.is_set() and any(positions[p] < ends[p] for p in ends):
                messages = [m for m in self.next_batch() if m.offset() < ends[m.partition()]]
                if not messages:
                    continue
                outcome = self.processor.process(messages)
                for (_topic, partition), offset in outcome.next_offsets.items():
                    positions[partition] = max(positions[partition], offset)
                if self.commit:
                    self.consumer.commit(
                        offsets=[TopicPartition(self.topic, p, o) for p, o in positions.items()], asynchronous=False
                    )
                totals = [totals[0] + outcome.processed, totals[1] + outcome.dead_lettered, totals[2] + outcome.duplicates]
                self.on_progress(len(messages))
                self._pause_finished(positions, ends)
        finally:
            self.consumer.close()
        return ReplayResult(totals[0], totals[1], totals[2], tuple(ranges))

    def _pause_finished(self, positions: dict[int, int], ends: dict[int, int]) -> None:
        """Stop fetching partitions that reached their end so newer messages are not read."""
        done = [TopicPartition(self.topic, p) for p in ends if positions[p] >= ends[p]]
        if done:
            self.consumer.pause(done)
