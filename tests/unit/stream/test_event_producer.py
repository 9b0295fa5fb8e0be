"""stream.kafka.EventProducer against no broker at all: failures surface, closing never hangs."""

from __future__ import annotations

import time

import pytest

from stream.kafka import DeliveryError, EventProducer

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
