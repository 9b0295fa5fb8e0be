"""``--until-idle`` counts only polls that had nothing to give while assigned: a fake consumer and clock, no sleeps.

The scenario of issue 10 item 4: a long batch, then a broker freeze and a rebalance (all partitions
revoked, a long wait for the new assignment), with listings still on the topic. The old rule (wall time
since the last message) ended the worker there, exit 0, listings unprocessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from confluent_kafka import KafkaError, TopicPartition

from stream.broker import BrokerError
from stream.worker.batching import MicroBatcher, next_offsets
from stream.worker.idle import IdleTimer
from stream.worker.live import JOIN_LIMIT_S, Worker

TOPIC = "listings"
POLL_S = 1.0  # the batcher's timeout: one empty poll takes this long


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeMessage:
    _partition: int
    _offset: int

    def topic(self) -> str:
        return TOPIC

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def error(self) -> KafkaError | None:
        return None


Step = Callable[["FakeConsumer", float], list[FakeMessage]]


@dataclass
class FakeConsumer:
    """Plays ``steps``, one per consume call, then empty polls; the topic holds ``ends`` per partition."""

    clock: FakeClock
    steps: list[Step]
    ends: dict[int, int]
    assigned: set[int] = field(default_factory=set)
    fetched: dict[int, int] = field(default_factory=dict)  # next offset handed out, per partition
    polls: int = 0
    timeouts: list[float] = field(default_factory=list)  # of every consume call, in order
    closed: bool = False

    def subscribe(self, topics: list[str], on_assign: Callable, on_revoke: Callable) -> None:
        self.on_assign, self.on_revoke = on_assign, on_revoke

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        self.polls += 1
        self.timeouts.append(timeout)
        step = self.steps.pop(0) if self.steps else empty
        return step(self, timeout)

    def assign_now(self, partitions: set[int]) -> None:
        self.assigned |= partitions
        self.on_assign(self, [TopicPartition(TOPIC, p) for p in sorted(partitions)])

    def revoke_all(self) -> None:
        revoked, self.assigned = self.assigned, set()
        self.on_revoke(self, [TopicPartition(TOPIC, p) for p in sorted(revoked)])

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.clock.now += 2.0  # a slow synchronous commit: not idle time either

    def close(self) -> None:
        self.closed = True

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, p) for p in sorted(self.assigned)]

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, tp.partition, self.fetched.get(tp.partition, -1001)) for tp in partitions]

    def committed(self, partitions: list[TopicPartition], timeout: float) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, tp.partition, -1001) for tp in partitions]

    def get_watermark_offsets(self, partition: TopicPartition, timeout: float) -> tuple[int, int]:
        return 0, self.ends.get(partition.partition, 0)


def empty(consumer: FakeConsumer, timeout: float) -> list[FakeMessage]:
    consumer.clock.now += timeout
    return []


def join_after(seconds: float, partitions: set[int]) -> Step:
    """The group answers the (re)join ``seconds`` into this poll."""

    def step(consumer: FakeConsumer, timeout: float) -> list[FakeMessage]:
        consumer.clock.now += seconds
        consumer.assign_now(partitions)
        return empty(consumer, timeout)

    return step


def revoke_all(consumer: FakeConsumer, timeout: float) -> list[FakeMessage]:
    consumer.revoke_all()
    return empty(consumer, timeout)


def deliver(partition: int, count: int) -> Step:
    def step(consumer: FakeConsumer, timeout: float) -> list[FakeMessage]:
        start = consumer.fetched.get(partition, 0)
        consumer.fetched[partition] = start + count
        consumer.clock.now += timeout
        return [FakeMessage(partition, offset) for offset in range(start, start + count)]

    return step


@dataclass(frozen=True)
class Outcome:
    """What the worker reads of stream.worker.processor.ProcessedBatch (importing it would load torch)."""

    processed: int
    next_offsets: dict[tuple[str, int], int]
    dead_lettered: int = 0
    duplicates: int = 0
    updates: int = 0
    deletes: int = 0
    retractions: int = 0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    photos: dict[str, int] = field(default_factory=dict)


class SlowProcessor:
    """Every batch takes ``batch_s``: processing time is never idle time."""

    def __init__(self, clock: FakeClock, batch_s: float) -> None:
        self.clock = clock
        self.batch_s = batch_s
        self.seen: list[tuple[int, int]] = []

    def prepare(self, messages: list[FakeMessage]) -> list[FakeMessage]:
        return messages

    def finish(self, messages: list[FakeMessage]) -> Outcome:
        self.clock.now += self.batch_s
        self.seen += [(m.partition(), m.offset()) for m in messages]
        return Outcome(len(messages), next_offsets(messages))  # type: ignore[arg-type]


def make_worker(steps: list[Step], ends: dict[int, int], batch_s: float = 0.0) -> tuple[Worker, FakeConsumer]:
    clock = FakeClock()
    consumer = FakeConsumer(clock, steps, ends)
    worker = Worker(
        consumer,  # type: ignore[arg-type]
        SlowProcessor(clock, batch_s),  # type: ignore[arg-type]
        topic=TOPIC,
        batcher=MicroBatcher(max_size=100, timeout_s=POLL_S, clock=clock),
        summary_interval_s=1_000.0,
        clock=clock,
    )
    return worker, consumer


def test_a_long_batch_and_a_rejoin_do_not_end_the_worker_while_listings_remain() -> None:
    steps = [
        join_after(5.0, {0, 1}),  # the first join: not idle
        deliver(0, 3),  # a batch that takes 100 s (batch_s below), far past --until-idle
        *[empty] * 3,
        revoke_all,  # broker freeze -> session lost -> everything revoked
        *[empty] * 40,  # 40 s waiting for the new assignment: not idle either
        join_after(0.5, {0, 1}),
        *[empty] * 2,
        deliver(1, 4),  # the listings that were still on the topic
    ]
    scripted = len(steps)
    worker, consumer = make_worker(steps, ends={0: 3, 1: 4}, batch_s=100.0)

    metrics = worker.run(until_idle=10.0)

    assert metrics.processed == 7, "every listing on the topic was processed before exiting"
    assert sorted(worker.processor.seen) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (1, 3)]
    assert consumer.closed and not consumer.steps
    # After the last batch: exactly 10 polls of 1 s with nothing to give, no more, no fewer (the others are
    # the batcher's short ones, which close a batch when nothing more is at hand).
    after_script = consumer.timeouts[scripted:]
    assert [t for t in after_script if t == POLL_S] == [POLL_S] * 10
    assert all(t < 0.1 for t in after_script if t != POLL_S)


def test_idle_counts_only_the_part_of_a_poll_after_the_assignment() -> None:
    clock = FakeClock()
    timer = IdleTimer(clock)
    timer.polled(0.0, 30.0, got_messages=False)
    assert timer.idle_s == 0.0, "no assignment yet: waiting for the group is not idleness"
    clock.now = 34.0
    timer.assigned([(TOPIC, 0)])
    timer.polled(30.0, 35.0, got_messages=False)
    assert timer.idle_s == pytest.approx(1.0)
    timer.polled(35.0, 36.0, got_messages=True)
    assert timer.idle_s == 0.0
    timer.polled(40.0, 41.0, got_messages=False)
    assert timer.idle_s == pytest.approx(1.0), "the gap between polls (processing) does not count"
    clock.now = 41.0
    timer.revoked([(TOPIC, 0)])
    assert timer.idle_s == 0.0 and not timer.joined
    clock.now = 50.0
    assert timer.unjoined_for() == pytest.approx(9.0)


def test_a_worker_the_group_gives_no_partition_is_idle() -> None:
    worker, consumer = make_worker([join_after(2.0, set())], ends={0: 5})
    metrics = worker.run(until_idle=3.0)
    assert metrics.processed == 0 and consumer.closed
    assert consumer.clock.now == pytest.approx(5.0), "2 s to join, then 3 s of empty polls"


def test_quiet_polls_with_messages_left_on_the_broker_are_not_idle(caplog: pytest.LogCaptureFixture) -> None:
    """E.g. a frozen broker: nothing arrives, yet the partition's end is past our position."""
    steps = [join_after(1.0, {0}), *[empty] * 12, deliver(0, 2)]
    worker, consumer = make_worker(steps, ends={0: 2})

    metrics = worker.run(until_idle=5.0)

    assert metrics.processed == 2
    assert "2 messages are not consumed yet" in caplog.text


def test_no_assignment_for_too_long_fails_instead_of_passing_for_idle() -> None:
    worker, consumer = make_worker([], ends={0: 1})
    with pytest.raises(BrokerError, match="no partition assignment within") as failure:
        worker.run(until_idle=5.0)
    assert failure.value.args[0].code() == KafkaError._TIMED_OUT
    assert JOIN_LIMIT_S < consumer.clock.now <= JOIN_LIMIT_S + 2 * POLL_S
    assert consumer.closed
