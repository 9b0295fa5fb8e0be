"""Dead letters always go out, cut to fit when they must, once per source offset, and never block a batch."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson
import pytest
from confluent_kafka import Message

from stream.events import DeadLetter, SourcePosition
from stream.kafka import DeliveryError
from stream.worker.incoming import Incoming
from stream.worker.prepare import PipelineReport, PreparedListings
from stream.worker.processor import BatchProcessor

LIMIT = 10_000
SOURCE = SourcePosition(topic="listings", partition=1, offset=7)


@dataclass
class Sent:
    topic: str
    key: bytes | str | None
    value: bytes | None
    headers: dict[str, bytes]


@dataclass
class FakeProducer:
    """Rejects records over ``limit`` for good (as a broker or librdkafka does); can fail one flush."""

    limit: int = LIMIT
    fail_next_flush: bool = False
    sent: list[Sent] = field(default_factory=list)
    _callbacks: list[Callable[[], None]] = field(default_factory=list)

    @property
    def max_message_bytes(self) -> int:
        return LIMIT

    def send(self, topic, key, value, headers=None, *, on_delivered=None, on_rejected=None) -> None:  # noqa: ANN001
        size = len(key or b"") + len(value or b"") + sum(len(k) + len(v) for k, v in headers or [])
        if size > self.limit:
            assert on_rejected is not None, "only dead letters may be rejected without failing the batch"
            self._callbacks.append(lambda: on_rejected("Broker: Message size too large"))
            return
        self.sent.append(Sent(topic, key, value, dict(headers or [])))
        if on_delivered is not None:
            self._callbacks.append(on_delivered)

    def flush(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        if self.fail_next_flush:
            self.fail_next_flush = False
            for callback in callbacks[: len(callbacks) // 2]:  # half were acknowledged before the outage
                callback()
            raise DeliveryError("1 of 2 events not delivered within 30.0s")
        for callback in callbacks:
            callback()


class NoPipeline:
    def prepare(self, incoming: Sequence[Incoming]) -> PreparedListings:
        return PreparedListings([], [], None, PipelineReport(listings=len(incoming)))  # type: ignore[arg-type]

    def finish(self, prepared: PreparedListings, deliver: object = None) -> PipelineReport:
        return prepared.report


def message(offset: int, value: bytes) -> Message:
    return Message(topic="listings", partition=0, offset=offset, key=b"k", value=value, timestamp=(1, 1))


def processor(producer: FakeProducer) -> BatchProcessor:
    return BatchProcessor(NoPipeline(), producer, duplicates_topic="dups", dlq_topic="dlq", max_title_chars=1_000)  # type: ignore[arg-type]


def test_a_letter_that_fits_is_sent_whole() -> None:
    letter = DeadLetter(b"k", b"{bad", "not valid JSON", SOURCE)
    assert letter.fitted(LIMIT) is letter
    assert "dedup.truncated" not in dict(letter.headers())


def test_an_oversized_letter_is_cut_to_a_prefix_with_its_size_and_digest() -> None:
    value = bytes(range(256)) * 100
    fitted = DeadLetter(b"k" * 5_000, value, "event is 25600 bytes, over the 256-byte limit", SOURCE).fitted(LIMIT)
    assert fitted.size_bound() <= LIMIT
    assert fitted.value and value.startswith(fitted.value) and len(fitted.value) > LIMIT // 2
    headers = dict(fitted.headers())
    assert headers["dedup.truncated"] == b"true"
    assert headers["dedup.original.size"] == b"25600"
    assert headers["dedup.original.sha256"] == hashlib.sha256(value).hexdigest().encode()
    assert headers["dedup.error"].startswith(b"event is 25600 bytes")


def test_an_oversized_event_is_dead_lettered_truncated_and_the_batch_goes_on() -> None:
    producer = FakeProducer()
    huge = orjson.dumps({"listing_id": "big", "title": "x", "description": "d" * 300_000})  # over 256 KiB
    outcome = processor(producer).process([message(0, huge), message(1, b"{bad")])
    assert (outcome.dead_lettered, outcome.next_offsets) == (2, {("listings", 0): 2})
    big, bad = producer.sent
    assert huge.startswith(big.value) and big.headers["dedup.original.size"] == str(len(huge)).encode()
    assert bad.value == b"{bad" and "dedup.truncated" not in bad.headers


def test_a_letter_the_broker_refuses_goes_out_without_its_value_and_never_fails_the_batch() -> None:
    producer = FakeProducer(limit=2_000)  # the broker's limit is below the producer's
    huge = b"{" + b"x" * 50_000
    outcome = processor(producer).process([message(0, huge)])
    assert outcome.dead_lettered == 1
    [letter] = producer.sent
    assert letter.value == b"" and letter.headers["dedup.truncated"] == b"true"
    assert letter.headers["dedup.original.size"] == str(len(huge)).encode()


def test_a_letter_that_can_never_be_delivered_is_dropped_not_retried_forever(caplog: pytest.LogCaptureFixture) -> None:
    producer = FakeProducer(limit=10)  # not even the headers fit
    outcome = processor(producer).process([message(0, b"{bad"), message(1, b"{worse")])
    assert outcome.dead_lettered == 2 and producer.sent == []
    assert "dead letter for listings[0]@0 dropped" in caplog.text


def test_a_retried_batch_does_not_send_its_delivered_letters_again() -> None:
    producer = FakeProducer(fail_next_flush=True)
    batch = [message(offset, b"{bad %d" % offset) for offset in range(4)]
    worker = processor(producer)
    with pytest.raises(DeliveryError):
        worker.process(batch)
    worker.process(batch)
    offsets = Counter(int(sent.headers["dedup.source.offset"]) for sent in producer.sent)
    assert offsets == {0: 1, 1: 1, 2: 2, 3: 2}, "acknowledged letters are not sent again"
    worker.process([message(9, b"{next")])
    worker.process(batch)  # replayed later (e.g. dedup replay): sent again, nothing is remembered unboundedly
    assert len(producer.sent) == 6 + 1 + 4
