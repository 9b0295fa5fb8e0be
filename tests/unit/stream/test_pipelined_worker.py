"""The pipelined worker: the next batch is prepared while this one is finished, commits stay in order, and a
failure or a revocation never commits a batch out of turn. A fake partitioned log and clock; no broker."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from confluent_kafka import KafkaError, TopicPartition

from infra.milvus.errors import StoreUnavailable
from stream.worker.batching import MicroBatcher, next_offsets
from stream.worker.live import Worker
from tests.unit.stream.test_until_idle import FakeClock, FakeMessage, Outcome

TOPIC = "listings"
WAIT_S = 5.0  # how long a fake stage waits for the overlap it expects before calling it missing


@dataclass
class FakeLog:
    """Partitions of ``sizes`` messages, handed out from each partition's position like a consumer does."""

    clock: FakeClock
    sizes: dict[int, int]
    events: list[str]
    per_poll: int = 3  # messages one consume call finds at hand
    positions: dict[int, int] = field(default_factory=dict)
    before_poll: dict[int, list] = field(default_factory=dict)  # poll number -> callbacks run inside it
    polls: int = 0

    def subscribe(self, topics: list[str], on_assign, on_revoke) -> None:  # type: ignore[no-untyped-def]
        self.on_revoke = on_revoke
        self.positions = dict.fromkeys(self.sizes, 0)
        on_assign(self, [TopicPartition(TOPIC, p) for p in self.sizes])

    def consume(self, num_messages: int, timeout: float) -> list[FakeMessage]:
        self.polls += 1
        for callback in self.before_poll.pop(self.polls, []):
            callback(self)
        found: list[FakeMessage] = []
        for partition, position in sorted(self.positions.items()):
            take = min(self.sizes[partition] - position, num_messages - len(found), self.per_poll - len(found))
            found += [FakeMessage(partition, offset) for offset in range(position, position + max(take, 0))]
            self.positions[partition] = position + max(take, 0)
        if not found:
            self.clock.now += timeout
        return found

    def revoke(self, partition: int) -> None:
        self.events.append(f"revoke p{partition}")
        self.on_revoke(self, [TopicPartition(TOPIC, partition)])
        self.positions.pop(partition)
        self.events.append("revoked")

    def seek(self, partition: TopicPartition) -> None:
        self.events.append(f"seek p{partition.partition}@{partition.offset}")
        if partition.partition in self.positions:
            self.positions[partition.partition] = partition.offset

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        self.events.append("commit " + ",".join(f"p{tp.partition}@{tp.offset}" for tp in offsets))

    def close(self) -> None:
        self.events.append("close")

    def assignment(self) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, p) for p in self.positions]

    def position(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        return [TopicPartition(TOPIC, tp.partition, self.positions.get(tp.partition, 0)) for tp in partitions]

    def get_watermark_offsets(self, partition: TopicPartition, timeout: float) -> tuple[int, int]:
        return 0, self.sizes[partition.partition] if partition.partition in self.positions else 0


class RecordingProcessor:
    """Names each batch by its first message; ``finish`` can wait until the next batch's prepare started."""

    def __init__(self, events: list[str], fail_first_finishes: int = 0, expect_overlap: bool = False) -> None:
        self.events = events
        self.fail_first_finishes = fail_first_finishes
        self.expect_overlap = expect_overlap
        self.prepares = 0
        self.prepared_more = threading.Condition()
        self.finished: list[tuple[int, int]] = []

    def prepare(self, messages: list[FakeMessage]) -> list[FakeMessage]:
        with self.prepared_more:
            self.prepares += 1
            self.events.append(f"prepare {_name(messages)}")
            self.prepared_more.notify_all()
        return messages

    def finish(self, messages: list[FakeMessage]) -> Outcome:
        if self.expect_overlap:  # the next batch must be on its way while this one is finished
            with self.prepared_more:
                before = self.prepares
                overlapped = self.prepared_more.wait_for(lambda: self.prepares > before, timeout=WAIT_S)
            self.events.append("overlap" if overlapped else "no overlap")
        if self.fail_first_finishes:
            self.fail_first_finishes -= 1
            self.events.append(f"fail {_name(messages)}")
            raise StoreUnavailable("milvus: connection refused (simulated)")
        self.events.append(f"finish {_name(messages)}")
        self.finished += [(m.partition(), m.offset()) for m in messages]
        return Outcome(len(messages), next_offsets(messages))  # type: ignore[arg-type]


def _name(messages: list[FakeMessage]) -> str:
    return "+".join(f"p{m.partition()}@{m.offset()}" for m in messages[:1])


def worker_on(sizes: dict[int, int], processor: RecordingProcessor, *, pipelined: bool = True) -> tuple[Worker, FakeLog]:
    clock = FakeClock()
    log = FakeLog(clock, sizes, processor.events)
    worker = Worker(
        log,  # type: ignore[arg-type]
        processor,  # type: ignore[arg-type]
        topic=TOPIC,
        batcher=MicroBatcher(max_size=3, timeout_s=1.0, clock=clock),
        summary_interval_s=1_000.0,
        retry_backoff_s=0.01,
        pipelined=pipelined,
        clock=clock,
    )
    return worker, log


def commits(events: list[str]) -> list[str]:
    return [event for event in events if event.startswith("commit")]


def test_the_next_batch_is_prepared_while_this_one_is_finished_and_commits_stay_in_order() -> None:
    processor = RecordingProcessor([], expect_overlap=True)
    worker, _ = worker_on({0: 9}, processor)

    metrics = worker.run(max_events=9)

    assert metrics.processed == 9
    assert processor.events.count("overlap") == 2, processor.events  # the last batch has none behind it
    assert commits(processor.events) == ["commit p0@3", "commit p0@6", "commit p0@9"]
    assert processor.finished == [(0, offset) for offset in range(9)]


def test_not_pipelined_each_batch_is_finished_before_the_next_is_consumed() -> None:
    processor = RecordingProcessor([])
    worker, _ = worker_on({0: 6}, processor, pipelined=False)

    worker.run(max_events=6)

    steps = [event for event in processor.events if event.split()[0] in {"prepare", "finish"}]
    assert steps == ["prepare p0@0", "finish p0@0", "prepare p0@3", "finish p0@3"]


def test_a_failed_batch_takes_the_batch_prepared_behind_it_back_and_nothing_is_skipped() -> None:
    processor = RecordingProcessor([], fail_first_finishes=1)
    worker, _ = worker_on({0: 6}, processor)

    metrics = worker.run(max_events=6)

    assert metrics.retries == 1 and metrics.processed == 6
    events = processor.events
    failed = events.index("fail p0@0")
    assert events[failed + 1] == "seek p0@0", "rewound to the failed batch's start, before the one behind it"
    assert "finish p0@3" not in events[:failed], "the batch behind was never finished ahead of the failed one"
    assert commits(events) == ["commit p0@3", "commit p0@6"]
    assert processor.finished == [(0, offset) for offset in range(6)]


def test_a_batch_in_flight_from_a_revoked_partition_is_committed_inside_the_revocation() -> None:
    processor = RecordingProcessor([])
    worker, log = worker_on({0: 3, 1: 3}, processor)
    log.per_poll = 3
    log.before_poll[3] = [lambda fake: fake.revoke(0)]  # while the first batch (p0) is in flight

    metrics = worker.run(until_idle=2.0)

    events = processor.events
    revoked = events.index("revoke p0")
    assert events[revoked + 1 : events.index("revoked")] == ["finish p0@0", "commit p0@3"]
    assert metrics.processed == 6 and commits(events) == ["commit p0@3", "commit p1@3"]


def test_a_batch_that_fails_inside_a_revocation_is_rewound_where_it_is_still_ours() -> None:
    processor = RecordingProcessor([], fail_first_finishes=1)
    worker, log = worker_on({0: 2, 1: 2}, processor)
    log.per_poll = 3  # the first batch holds p0@0, p0@1 and p1@0
    log.before_poll[3] = [lambda fake: fake.revoke(0)]

    metrics = worker.run(until_idle=2.0)

    events = processor.events
    assert events.index("fail p0@0") < events.index("revoked")
    assert "seek p1@0" in events, "the partition still assigned goes back to the failed batch's start"
    assert sorted(processor.finished) == [(1, 0), (1, 1)], "only p1 is finished again; p0 is another's now"
    assert metrics.processed == 2 and commits(events) == ["commit p1@2"]


def test_a_fatal_broker_error_is_not_retried() -> None:
    class FatalProcessor(RecordingProcessor):
        def finish(self, messages: list[FakeMessage]) -> Outcome:
            from confluent_kafka import KafkaException

            raise KafkaException(KafkaError(KafkaError._FENCED, "fenced", fatal=True))

    processor = FatalProcessor([])
    worker, _ = worker_on({0: 3}, processor)
    try:
        worker.run(max_events=3)
    except Exception as exc:  # noqa: BLE001 - the type is what is checked
        assert type(exc).__name__ == "KafkaException"
    else:
        raise AssertionError("a fatal error must end the worker")
    assert worker.metrics.retries == 0 and "close" in processor.events
