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
    """Collects up to ``max_size`` messages: waits up to ``timeout_s`` for the first one, then takes what the
    consumer has at hand and closes the batch as soon as a poll of ``linger_s`` brings nothing more.

    Closing early instead of waiting out the timer is what keeps latency low at moderate load: a batch is
    whatever arrived while the previous one was processed, so it grows with the load by itself.
    """

    def __init__(
        self, max_size: int, timeout_s: float, clock: Callable[[], float] = time.monotonic, linger_s: float = 0.005
    ) -> None:
        self.max_size = max_size
        self.timeout_s = timeout_s
        self.linger_s = linger_s
        self.clock = clock
        self.buffer: list[Message] = []
        self._revoked: set[PartitionKey] = set()  # during the current consume call

    def collect(
        self, consume: Callable[[int, float], list[Message]], limit: int | None = None, *, wait: bool = True
    ) -> list[Message]:
        """``wait`` false: only what is at hand (a batch is in flight, and waiting would delay it)."""
        size = min(self.max_size, limit) if limit is not None else self.max_size
        deadline = self.clock() + self.timeout_s
        self.buffer = []
        while len(self.buffer) < size:
            remaining = deadline - self.clock()
            if remaining <= 0:
                break
            at_hand = bool(self.buffer) or not wait
            # Waiting for the first message asks for one: consume() returns only once it has all it asked for.
            count, timeout = (size - len(self.buffer), min(self.linger_s, remaining)) if at_hand else (1, remaining)
            # consume() runs the rebalance callbacks, which may replace self.buffer: read it only after the call
            # (extending the list looked up before it lost the call's messages, and a later commit skipped them).
            self._revoked = set()
            fetched = usable(consume(count, timeout))
            self.buffer.extend(m for m in fetched if (m.topic(), m.partition()) not in self._revoked)
            if at_hand and not fetched:
                break
        batch, self.buffer = self.buffer, []
        return batch

    def forget_collected(self, partitions: set[PartitionKey]) -> None:
        """Called after a rewind: what was collected of these partitions comes again (messages fetched after the
        seek, later in the same consume call, are kept)."""
        self.buffer = [m for m in self.buffer if (m.topic(), m.partition()) not in partitions]

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
