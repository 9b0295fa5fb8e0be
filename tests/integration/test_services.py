"""The session service fixtures hand out working endpoints."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from pymilvus import MilvusClient

from tests import services

pytestmark = pytest.mark.integration


def test_kafka_fixture_round_trips_records(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> None:
    topic = unique_name("topic")
    services.create_topic(kafka_bootstrap, topic)
    sent = [(b"listing-1", b'{"title": "red bike"}'), (b"listing-2", b'{"title": "blue kettle"}')]

    services.produce(kafka_bootstrap, topic, sent)
    received = services.consume(kafka_bootstrap, topic, unique_name("group"), count=len(sent))

    assert [(message.key(), message.value()) for message in received] == sent


def test_redis_fixture_stores_and_returns_values(redis_url: str, unique_name: Callable[[str], str]) -> None:
    key = unique_name("key")
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.set(key, b"cached-embedding", ex=60)
        assert client.get(key) == b"cached-embedding"
    finally:
        client.close()


def test_milvus_fixture_accepts_collections(milvus_uri: str, unique_name: Callable[[str], str]) -> None:
    collection = unique_name("collection")
    client = MilvusClient(uri=milvus_uri)
    try:
        client.create_collection(collection, dimension=4)
        assert collection in client.list_collections()
    finally:
        client.drop_collection(collection)
        client.close()


def test_unique_name_gives_distinct_names_valid_everywhere(unique_name: Callable[[str], str]) -> None:
    names = {unique_name("collection") for _ in range(100)}

    assert len(names) == 100
    assert all(name.startswith("collection_") and name.replace("_", "").isalnum() for name in names)
    with pytest.raises(ValueError, match="prefix"):
        unique_name("bad-prefix")
