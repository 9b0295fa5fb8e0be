"""No poison pill: records the store cannot hold or the producer cannot forward never stop the worker."""

from __future__ import annotations

import hashlib

import orjson
import pytest
from confluent_kafka import Producer

from decider.bundle import ModelBundle
from stream.kafka import ensure_topics
from stream.settings import Settings
from stream.worker.runtime import open_runtime
from tests.streaming import committed_and_ends, read

pytestmark = pytest.mark.integration

KEY = b"one-partition"  # every record on one partition, so the poison sits between the good ones


def publish_in_order(settings: Settings, values: list[bytes]) -> None:
    client = settings.kafka.client_config()
    ensure_topics(client, [settings.topics.listings], settings.topics.partitions)
    # Above the 1,000,000-byte default, as an upstream producer configured for large records would be.
    producer = Producer({**client, "message.max.bytes": 5_000_000, "linger.ms": 0})
    for value in values:
        producer.produce(settings.topics.listings, key=KEY, value=value)
        producer.flush(30)
    assert producer.flush(30) == 0


def good(listing_id: str, title: str) -> bytes:
    return orjson.dumps({"listing_id": listing_id, "title": title, "created_at": "2026-01-01T00:00:00Z"})


def test_an_oversized_record_and_unstorable_dates_are_dead_lettered_once_and_the_rest_is_committed(
    pipeline_settings: Settings, baseline_model: ModelBundle
) -> None:
    huge = orjson.dumps({"listing_id": "huge", "title": "Sony TV", "description": "d" * 1_200_000})
    poison = {
        huge: "over the 262144-byte limit",
        orjson.dumps({"listing_id": "far", "title": "Sony TV", "created_at": 1e30}): "out of range",
        orjson.dumps({"listing_id": "neg", "title": "Sony TV", "created_at": -5}): "out of range",
        orjson.dumps({"listing_id": "text", "title": "Sony TV", "created_at": "not a date"}): "not an ISO 8601 date",
    }
    goods = [good("g1", "Philips 1.7L electric kettle HD9350"), good("g2", "Lego Technic 42115 Lamborghini"),
             good("g3", "Bosch Serie 4 dishwasher SMS4HTI45E")]  # fmt: skip
    publish_in_order(pipeline_settings, [goods[0], huge, goods[1], *poison.keys() - {huge}, goods[2]])

    with open_runtime(pipeline_settings, baseline_model) as runtime:
        metrics = runtime.worker().run(until_idle=5.0)
        stored = runtime.store.count()

    assert (metrics.processed, metrics.dead_lettered, metrics.retries, stored) == (3, 4, 0, 3)
    letters = read(pipeline_settings, pipeline_settings.topics.dlq)
    by_offset = {dict(m.headers())["dedup.source.offset"]: m for m in letters}
    assert len(letters) == len(by_offset) == 4, "each poison record dead-lettered once"
    [cut] = [m for m in letters if dict(m.headers()).get("dedup.truncated") == b"true"]
    headers = dict(cut.headers())
    assert huge.startswith(cut.value()) and 900_000 < len(cut.value()) < 1_000_000
    assert headers["dedup.original.size"] == str(len(huge)).encode()
    assert headers["dedup.original.sha256"] == hashlib.sha256(huge).hexdigest().encode()
    for message in letters:
        reason = dict(message.headers())["dedup.error"].decode()
        assert poison[huge if message is cut else message.value()] in reason, reason
    committed, ends = committed_and_ends(pipeline_settings)
    assert committed == ends and sum(ends.values()) == 7
