"""`dedup bench`'s latency part without services: open-loop pacing, the batch log, latencies per listing."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from stream.benchmark.errors import BenchError
from stream.benchmark.latency import PacedPublisher, Pacer, latencies_s, wait_until
from stream.benchmark.observe import BatchLog


class FakeClock:
    """A clock that only moves when slept on (or told to), recording each sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 9))
        self.now += seconds


def test_sends_are_due_at_fixed_intervals_from_the_first() -> None:
    clock = FakeClock()
    pacer = Pacer(4.0, clock=clock, sleep=clock.sleep)
    sent_at = []
    for index in range(5):
        pacer.wait_turn(index)
        sent_at.append(clock.now)
    assert sent_at == [100.0, 100.25, 100.5, 100.75, 101.0]
    assert pacer.achieved_rate(5) == pytest.approx(4.0)


def test_a_late_send_goes_at_once_and_the_schedule_does_not_shift() -> None:
    clock = FakeClock()
    pacer = Pacer(2.0, clock=clock, sleep=clock.sleep)
    pacer.wait_turn(0)
    clock.now += 1.2  # the sender was held up past turns 1 and 2
    pacer.wait_turn(1)
    pacer.wait_turn(2)
    assert clock.sleeps == []  # both overdue: no wait, no skipping
    pacer.wait_turn(3)
    assert clock.now == pytest.approx(101.5)  # turn 3 is still due at start + 3 / rate


def test_a_load_of_zero_is_refused() -> None:
    with pytest.raises(BenchError, match="positive"):
        Pacer(0.0)


def test_wait_until_gives_up_at_its_deadline() -> None:
    clock = FakeClock()
    assert wait_until(lambda: False, 1.0, clock, clock.sleep) is False
    assert 1.0 <= clock.now - 100.0 < 1.1
    assert wait_until(lambda: True, 1.0, clock, clock.sleep) is True


@dataclass
class FakeProducer:
    clock: FakeClock
    produced: list[tuple[str, float]] = field(default_factory=list)
    unflushed: int = 0

    def produce(self, topic: str, *, key: str, value: bytes) -> None:
        self.produced.append((key, self.clock.now))

    def poll(self, timeout: float) -> int:
        return 0

    def flush(self, timeout: float) -> int:
        return self.unflushed


def paced(producer: FakeProducer, clock: FakeClock, count: int) -> PacedPublisher:
    listings = [{"listing_id": f"L{i}", "title": "x"} for i in range(count)]
    return PacedPublisher(producer, "topic", listings, Pacer(10.0, clock=clock, sleep=clock.sleep))  # type: ignore[arg-type]


def test_the_publisher_records_each_send_time_and_its_achieved_load() -> None:
    clock = FakeClock()
    producer = FakeProducer(clock)
    publisher = paced(producer, clock, 3)
    publisher.start()
    publisher.join()
    assert publisher.published_at == {"L0": 100.0, "L1": pytest.approx(100.1), "L2": pytest.approx(100.2)}
    assert [key for key, _ in producer.produced] == ["L0", "L1", "L2"]
    assert publisher.achieved_per_s == pytest.approx(10.0)


def test_unacknowledged_sends_fail_the_run_on_join() -> None:
    clock = FakeClock()
    publisher = paced(FakeProducer(clock, unflushed=2), clock, 2)
    publisher.start()
    with pytest.raises(BenchError, match="did not acknowledge"):
        publisher.join()


def test_a_stopped_worker_stops_the_publisher() -> None:
    clock = FakeClock()
    producer = FakeProducer(clock)
    publisher = paced(producer, clock, 5)
    publisher.stop.set()
    publisher.start()
    publisher.join()
    assert producer.produced == []


def test_the_batch_log_times_commits_and_duplicates_on_its_clock() -> None:
    clock = FakeClock()
    updates: list[int] = []
    log = BatchLog(clock=clock, on_committed=updates.append)
    log.started()  # the first batch is prepared ...
    log.started()  # ... and, pipelined, the second before the first is finished
    log.finishing(["a", "b", "c"])
    clock.now += 0.4
    log.delivered(["b"])  # b's duplicate-found acknowledged
    clock.now += 0.1
    log.committed()
    log.finishing(["d"])
    clock.now += 0.5
    log.committed()
    assert log.sizes == [3, 1] and updates == [3, 1]
    assert log.duplicate_at == {"b": 100.4}
    assert log.committed_at == {"a": 100.5, "b": 100.5, "c": 100.5, "d": 101.0}
    assert log.elapsed_s() == pytest.approx(1.0)


def test_latency_runs_to_the_duplicate_event_when_there_is_one_else_to_the_commit() -> None:
    published = {"a": 1.0, "b": 1.0, "lost": 1.0}
    every, duplicates, missing = latencies_s(published, {"b": 1.25}, {"a": 1.5, "b": 1.5})
    assert sorted(every) == [0.25, 0.5]
    assert duplicates == [0.25]
    assert missing == 1
