"""Micro-batching and offset bookkeeping, with fake messages and an injected clock (no sleeps)."""

from dataclasses import dataclass

import pytest
from confluent_kafka import TopicPartition

from stream.worker.batching import MicroBatcher, OffsetRegressionError, OffsetTracker, first_offsets, next_offsets


@dataclass
class FakeMessage:
    _topic: str
    _partition: int
    _offset: int

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def error(self) -> None:
        return None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_batch_closes_at_max_size_without_waiting_for_the_timeout() -> None:
    clock = FakeClock()
    source = iter([FakeMessage("t", 0, i) for i in range(10)])

    def consume(count: int, timeout: float) -> list[FakeMessage]:
        return [next(source) for _ in range(min(count, 3))]

    batch = MicroBatcher(max_size=5, timeout_s=10, clock=clock).collect(consume)
    assert [m.offset() for m in batch] == [0, 1, 2, 3, 4]
    assert clock.now == 0.0


def test_batch_closes_at_timeout_with_what_it_has() -> None:
    clock = FakeClock()
    calls: list[float] = []

    def consume(count: int, timeout: float) -> list[FakeMessage]:
        calls.append(timeout)
        clock.now += timeout  # the broker had nothing: the call used its whole timeout
        return [FakeMessage("t", 0, len(calls))] if len(calls) == 1 else []

    batch = MicroBatcher(max_size=100, timeout_s=2.0, clock=clock).collect(consume)
    assert len(batch) == 1
    assert calls[0] == 2.0 and len(calls) == 1


def test_limit_caps_the_batch() -> None:
    messages = [FakeMessage("t", 0, i) for i in range(10)]
    batch = MicroBatcher(max_size=100, timeout_s=1, clock=FakeClock()).collect(lambda n, _t: messages[:n], limit=4)
    assert len(batch) == 4


def test_revoked_partitions_are_dropped_from_the_batch_being_collected() -> None:
    batcher = MicroBatcher(max_size=100, timeout_s=1, clock=FakeClock())
    batcher.buffer = [FakeMessage("t", 0, 1), FakeMessage("t", 1, 1), FakeMessage("t", 0, 2)]
    batcher.drop_partitions([TopicPartition("t", 0)])
    assert [(m.partition(), m.offset()) for m in batcher.buffer] == [(1, 1)]


def test_offsets_are_tracked_per_partition() -> None:
    messages = [FakeMessage("t", 0, 5), FakeMessage("t", 1, 9), FakeMessage("t", 0, 7), FakeMessage("u", 0, 1)]
    assert first_offsets(messages) == {("t", 0): 5, ("t", 1): 9, ("u", 0): 1}
    assert next_offsets(messages) == {("t", 0): 8, ("t", 1): 10, ("u", 0): 2}


def test_an_offset_going_backwards_is_a_bug_that_raises() -> None:
    tracker = OffsetTracker()
    tracker.record({("t", 0): 10})
    tracker.check({("t", 0): 10, ("t", 1): 0})
    with pytest.raises(OffsetRegressionError, match=r"t\[0\]"):
        tracker.check({("t", 0): 9})
    tracker.forget([TopicPartition("t", 0)])
    tracker.check({("t", 0): 3})  # after revocation another owner may have moved it: no history


def test_a_revocation_inside_consume_keeps_the_messages_of_partitions_still_owned() -> None:
    """librdkafka runs the rebalance callback inside consume(); its messages must not land in a dropped list."""
    clock = FakeClock()
    batcher = MicroBatcher(max_size=3, timeout_s=10, clock=clock)
    calls = 0

    def consume(count: int, timeout: float) -> list[FakeMessage]:
        nonlocal calls
        calls += 1
        if calls == 1:
            return [FakeMessage("t", 0, 7)]
        if calls == 2:
            batcher.drop_partitions([TopicPartition("t", 0)])  # partition 0 revoked during this call
            return [FakeMessage("t", 1, 3), FakeMessage("t", 2, 5), FakeMessage("t", 0, 8)]
        clock.now += timeout  # nothing more
        return []

    batch = batcher.collect(consume)
    assert [(m.partition(), m.offset()) for m in batch] == [(1, 3), (2, 5)]


def test_batch_closes_as_soon_as_a_short_poll_brings_nothing_more() -> None:
    clock = FakeClock()
    arrivals = [[FakeMessage("t", 0, 0)], [FakeMessage("t", 0, 1), FakeMessage("t", 0, 2)], [], [FakeMessage("t", 0, 3)]]
    calls: list[tuple[int, float]] = []

    def consume(count: int, timeout: float) -> list[FakeMessage]:
        calls.append((count, timeout))
        found = arrivals.pop(0)
        clock.now += 0.0 if found else timeout
        return found

    batch = MicroBatcher(max_size=100, timeout_s=1.0, clock=clock, linger_s=0.005).collect(consume)
    assert [m.offset() for m in batch] == [0, 1, 2], "the batch did not wait out the 1 s timer"
    assert calls == [(1, 1.0), (99, 0.005), (97, 0.005)], "waits for one message, then only briefly for more"
    assert clock.now == pytest.approx(0.005)


def test_without_wait_only_what_is_at_hand_is_taken() -> None:
    clock = FakeClock()
    calls: list[float] = []

    def consume(count: int, timeout: float) -> list[FakeMessage]:
        calls.append(timeout)
        clock.now += timeout
        return []

    batch = MicroBatcher(max_size=100, timeout_s=1.0, clock=clock, linger_s=0.005).collect(consume, wait=False)
    assert batch == [] and calls == [0.005]


def test_a_filling_batcher_waits_out_the_timer_for_a_full_batch() -> None:
    clock = FakeClock()
    calls: list[tuple[int, float]] = []

    def consume(count: int, timeout: float) -> list[FakeMessage]:
        calls.append((count, timeout))
        if len(calls) == 1:
            clock.now += 0.5  # the first message came half a second in
            return [FakeMessage("t", 0, 0)]
        clock.now += timeout
        return []

    batch = MicroBatcher(max_size=100, timeout_s=2.0, clock=clock, linger_s=2.0).collect(consume)
    assert len(batch) == 1 and calls == [(1, 2.0), (99, 1.5)], "after the first message, the rest of the timer"
