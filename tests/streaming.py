"""Helpers for the pipeline tests: publish, read back, inspect committed offsets, a worker process's settings."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Consumer, Message, TopicPartition

from stream.kafka import EventProducer, end_offsets, ensure_topics, read_topic, topic_partitions
from stream.settings import Settings


def publish(settings: Settings, listings: Sequence[Mapping[str, Any] | bytes], *, key_field: str = "listing_id") -> None:
    client = settings.kafka.client_config()
    ensure_topics(client, [settings.topics.listings], settings.topics.partitions)
    producer = EventProducer.create(client)
    for listing in listings:
        if isinstance(listing, bytes):
            producer.send(settings.topics.listings, b"raw", listing)
        else:
            producer.send(settings.topics.listings, str(listing[key_field]), orjson.dumps(listing))
    producer.flush()


def read(settings: Settings, topic: str) -> list[Message]:
    ensure_topics(settings.kafka.client_config(), [topic], settings.topics.partitions)
    return read_topic(settings.kafka.client_config(), topic)


def duplicate_events(settings: Settings) -> list[dict[str, Any]]:
    return [orjson.loads(message.value()) for message in read(settings, settings.topics.duplicates)]


def found_pairs(events: Sequence[Mapping[str, Any]]) -> set[frozenset[str]]:
    return {frozenset((event["listing_id"], match["listing_id"])) for event in events for match in event["matches"]}


def committed_and_ends(
    settings: Settings, group_id: str | None = None, *, raw: bool = False
) -> tuple[dict[int, int], dict[int, int]]:
    """The group's committed offset and the end offset, per partition of the listings topic.

    An empty partition has nothing to commit: unless ``raw``, "no commit" reads as offset 0.
    """
    client = settings.kafka.client_config()
    consumer = Consumer({**client, "group.id": group_id or settings.kafka.group_id, "enable.auto.commit": False})
    try:
        topic = settings.topics.listings
        partitions = topic_partitions(consumer, topic)
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        ends = end_offsets(client, topic, partitions)
        return {tp.partition: tp.offset if raw else max(tp.offset, 0) for tp in committed}, ends
    finally:
        consumer.close()


def now_iso(offset_s: float = 0.0) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + offset_s)) + "Z"


def worker_env(settings: Settings, milvus_uri: Path, **extra: str) -> dict[str, str]:
    """``settings`` as the DEDUP_* variables an operator would set; ``extra`` adds or overrides some."""
    return {
        **os.environ,
        "DEDUP_KAFKA_BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "DEDUP_KAFKA_GROUP_ID": settings.kafka.group_id,
        "DEDUP_KAFKA_SESSION_TIMEOUT_MS": str(settings.kafka.session_timeout_ms),
        "DEDUP_TOPIC_LISTINGS": settings.topics.listings,
        "DEDUP_TOPIC_DUPLICATES": settings.topics.duplicates,
        "DEDUP_TOPIC_DLQ": settings.topics.dlq,
        # Milvus Lite allows one process per file: the worker process gets its own.
        "DEDUP_MILVUS_URI": str(milvus_uri),
        "DEDUP_MILVUS_COLLECTION": settings.milvus.collection,
        "DEDUP_REDIS_URL": settings.redis.url.get_secret_value(),
        "DEDUP_MODEL_DIR": str(settings.model.model_dir),
        "DEDUP_ENCODER_DEVICE": "cpu",
        "DEDUP_WORKER_BATCH_MAX_SIZE": str(settings.worker.batch_max_size),
        "DEDUP_WORKER_BATCH_TIMEOUT_S": "0.5",
        "DEDUP_WORKER_SUMMARY_INTERVAL_S": "1",
        "DEDUP_WORKER_RETRY_BACKOFF_S": "0.2",
        **extra,
    }
