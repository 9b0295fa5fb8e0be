"""stream.kafka: the EventProducer with no broker (failures surface, closing never hangs); consumer settings."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaException

from stream.kafka import DeliveryError, EventProducer, consumer_config

UNREACHABLE = {"bootstrap.servers": "127.0.0.1:1", "log_level": 0}


def test_undelivered_events_raise_and_close_returns_promptly() -> None:
    producer = EventProducer.create(UNREACHABLE)
    producer.flush_timeout_s = 0.5
    producer.send("listings.duplicates", b"key", b"value")
    with pytest.raises(DeliveryError, match="1 of 1 events not delivered"):
        producer.flush()
    started = time.monotonic()
    producer.close()  # librdkafka's close alone would wait for delivery forever
    assert time.monotonic() - started < 5.0


def test_a_record_over_message_max_bytes_is_rejected_to_its_callback_not_raised() -> None:
    producer = EventProducer.create({**UNREACHABLE, "message.max.bytes": "20000"})
    assert producer.max_message_bytes == 20_000
    rejected: list[str] = []
    producer.send("listings.dlq", b"key", b"x" * 30_000, on_rejected=rejected.append)
    producer.flush()  # nothing is pending: the rejection is final, not a delivery failure
    assert len(rejected) == 1 and "too large" in rejected[0].lower()
    with pytest.raises(KafkaException):  # without a callback the caller hears of it
        producer.send("listings.duplicates", b"key", b"x" * 30_000)
    producer.close()


def test_the_default_limit_is_librdkafkas() -> None:
    producer = EventProducer.create(UNREACHABLE)
    assert producer.max_message_bytes == 1_000_000
    producer.close()


@pytest.mark.parametrize(("session_ms", "heartbeat_ms"), [(1_000, 333), (6_000, 2_000), (45_000, 3_000)])
def test_the_heartbeat_stays_inside_a_short_session(session_ms: int, heartbeat_ms: int) -> None:
    """A session under librdkafka's 3 s heartbeat made every commit fail (UNKNOWN_MEMBER_ID) and retry forever."""
    assert consumer_config({}, "g", session_ms)["heartbeat.interval.ms"] == heartbeat_ms
    assert consumer_config({"heartbeat.interval.ms": 250}, "g", session_ms)["heartbeat.interval.ms"] == 250
