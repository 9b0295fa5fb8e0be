"""Micro-batches and the offsets they cover: what is consumed together and what gets committed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

log = logging.getLogger(__name__)

PartitionKey = tuple[str, int]


class OffsetRegressionError(RuntimeError):
    """A commit would move a partition's offset backwards: a bug, never silently accepted."""




class MicroBatcher:
    """Collects up to ``max_size`` messages or until ``timeout_s`` passes, whichever comes first."""

    def __init__(self, max_size: int, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_size = max_size
        self.timeout_s = timeout_s
        self.clock = clock
        self.buffer: list[Message] = []
        self._revoked: set[PartitionKey] = set()  # during the current consume call

    def collect(self, consume: Callable[[int, float], list[Message]], limit: int | None = None) -> list[Message]:
        size = min(self.max_size, limit) if limit is not None else self.max_size
        deadline = self.clock() + self.timeout_s
        self.buffer = []
        while len(self.buffer) < size:
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            # consume() runs the rebalance callbacks, which may replace self.buffer: read it only after the call
            # (extending the list looked up before it lost the call's messages, and a later commit skipped them).
            self._revoked = set()
            fetched = usable(consume(size - len(self.buffer), remaining))
            self.buffer.extend(m for m in fetched if (m.topic(), m.partition()) not in self._revoked)
        batch, self.buffer = self.buffer, []
        return batch

    def drop_partitions(self, partitions: Sequence[TopicPartition]) -> None:
        """Called on revocation: messages of partitions we no longer own must not be processed."""
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        self._revoked |= revoked
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
