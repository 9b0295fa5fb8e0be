"""Replay: reprocess a range of the listings topic for backfills, apart from the live group.

The range is fixed when replay starts (start offsets from a timestamp or explicit offsets; end
offsets from ``--to-timestamp`` or the partitions' ends at that moment), so a replay always
terminates even while producers keep writing. Partitions are *assigned*, never subscribed, so
the live consumer group is not rebalanced and its committed offsets are never touched; a replay's
own ``--group`` must be idle and hold no offsets on the topic (checked on the broker).

Timestamp lookups are checked against the records they point at: tansu (the embedded broker)
answers offset 0 to every lookup, so an answer that cannot be right is replaced by a binary search
on record timestamps (one record read per probe).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, ConsumerGroupState, ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from stream.kafka import end_offsets, topic_partitions
from stream.worker.batching import MicroBatcher
from stream.worker.consumer import BatchConsumer

if TYPE_CHECKING:  # the processor pulls in the model (torch); `dedup`'s error handling imports this module
    from stream.worker.processor import BatchProcessor

log = logging.getLogger(__name__)

PARTITION_END = -1  # offsets_for_times answer: no message at or after the timestamp
NO_TIMESTAMP = 0  # confluent_kafka's TIMESTAMP_NOT_AVAILABLE
ACTIVE_GROUP_STATES = {
    ConsumerGroupState.STABLE, ConsumerGroupState.PREPARING_REBALANCING, ConsumerGroupState.COMPLETING_REBALANCING
}


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
        parsed = parsed.replace(tzinfo=UTC)
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
    """First offset at or after each timestamp; the partition's end where there is none.

    Each broker answer is checked against the records around it; one that cannot be right is
    replaced by a binary search on record timestamps.
    """
    query = [TopicPartition(topic, p, ts) for p, ts in timestamps.items()]
    found = consumer.offsets_for_times(query, timeout=timeout_s)
    answers = {tp.partition: ends[tp.partition] if tp.offset == PARTITION_END else tp.offset for tp in found}
    with RecordProbe(consumer, topic, timeout_s) as probe:
        for partition, answer in answers.items():
            low = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)[0]
            bounds = (low, ends[partition])
            if not probe.confirms(partition, answer, timestamps[partition], bounds):
                log.warning("broker's offset for a timestamp on partition %d is wrong; searching records", partition)
                answers[partition] = probe.first_at_or_after(partition, timestamps[partition], bounds)
    return answers


class RecordProbe:
    """Reads single records at chosen offsets through the replay's consumer (assigned, never committed)."""

    def __init__(self, consumer: Consumer, topic: str, timeout_s: float) -> None:
        self.topic = topic
        self.timeout_s = timeout_s
        self._consumer = consumer  # borrowed: unassigned on exit, before the replay assigns its ranges

    def __enter__(self) -> RecordProbe:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._consumer.unassign()

    def confirms(self, partition: int, answer: int, timestamp_ms: int, bounds: tuple[int, int]) -> bool:
        """Whether ``answer`` can be the first offset at or after ``timestamp_ms``: the record there is
        not older and the one before it is; the end only when the last record is older."""
        low, end = bounds
        if answer < end and self.timestamp_at(partition, answer, end)[1] < timestamp_ms:
            return False
        return answer <= low or self.timestamp_at(partition, answer - 1, end)[1] < timestamp_ms

    def first_at_or_after(self, partition: int, timestamp_ms: int, bounds: tuple[int, int]) -> int:
        """Binary search over [low, end) for the first record not older than ``timestamp_ms``
        (record timestamps rise with offsets, as a producer's do)."""
        low, high = bounds
        end = high
        while low < high:
            middle = (low + high) // 2
            offset, timestamp = self.timestamp_at(partition, middle, end)
            if offset >= end or timestamp >= timestamp_ms:
                high = middle
            else:
                low = offset + 1
        return low

    def timestamp_at(self, partition: int, offset: int, end: int) -> tuple[int, int]:
        """(offset, timestamp ms) of the first record at or after ``offset``; (end, 0) if there is none."""
        self._consumer.assign([TopicPartition(self.topic, partition, offset)])
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            # A broker may hand back the whole batch holding ``offset`` (tansu does): skip what precedes it.
            for message in self._consumer.consume(num_messages=100, timeout=0.5):
                if message.error() is not None or message.partition() != partition or message.offset() < offset:
                    continue
                if message.offset() >= end:
                    return end, 0
                kind, timestamp = message.timestamp()
                if kind == NO_TIMESTAMP:
                    raise ReplayError(f"topic {self.topic!r} records carry no timestamps: use --from-offsets")
                return message.offset(), timestamp
        raise ReplayError(f"no record at offset {offset} of partition {partition} within {self.timeout_s}s")


def check_group_is_free(
    client: dict[str, Any], group: str, topic: str, partitions: list[int], timeout_s: float = 10.0
) -> None:
    """Refuses a replay group that a worker uses now (active members) or has used on this topic
    (committed offsets): the replay would move the offsets it resumes from."""
    admin = AdminClient(client)
    try:
        description = admin.describe_consumer_groups([group], request_timeout=timeout_s)[group].result()
        request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in partitions])
        listed = admin.list_consumer_group_offsets([request], request_timeout=timeout_s)[group].result()
    except KafkaException as exc:
        raise ReplayError(f"cannot check consumer group {group!r} on the broker: {exc.args[0].str()}") from None
    # tansu reports a joined group as stable but lists no members: the state alone must refuse it.
    if description.members or description.state in ACTIVE_GROUP_STATES:
        state, members = description.state.name.lower(), len(description.members)
        in_use = f"{state}, {members} members listed"
        raise ReplayError(f"consumer group {group!r} is in use ({in_use}): pick another --group")
    committed = sorted(tp.partition for tp in listed.topic_partitions if tp.offset >= 0 and tp.error is None)
    if committed:
        raise ReplayError(
            f"consumer group {group!r} has committed offsets on {topic!r} (partitions {committed}):"
            " a replay would move them; pick another --group"
        )


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
                counts = (outcome.processed, outcome.dead_lettered, outcome.duplicates)
                totals = [total + count for total, count in zip(totals, counts, strict=True)]
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
