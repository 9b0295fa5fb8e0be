"""`dedup bench`'s catalog and settings: two disjoint parts of one catalog, a stack of its own, fresh names."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import orjson

from stream.benchmark.catalog import bench_catalog, bench_settings, keyed
from stream.settings import Settings


def test_the_catalog_comes_in_two_disjoint_parts_of_the_sizes_asked() -> None:
    catalog = bench_catalog(90, 30, seed=3)
    assert len(catalog.throughput) == 90 and len(catalog.latency) == 30
    first = {listing["listing_id"] for listing in catalog.throughput}
    assert first.isdisjoint(listing["listing_id"] for listing in catalog.latency)
    again = bench_catalog(90, 30, seed=3)
    assert [item["listing_id"] for item in again.latency] == [item["listing_id"] for item in catalog.latency]


def test_listings_are_keyed_by_their_id() -> None:
    listing = {"listing_id": "L1", "title": "WD Red 4TB"}
    assert keyed([listing]) == [("L1", orjson.dumps(listing))]


def test_settings_point_at_the_benchmark_stack_with_fresh_names_and_keep_the_tuning() -> None:
    base = Settings(worker={"batch_max_size": 32, "batch_timeout_s": 0.3}, milvus={"candidates": 7})
    status = SimpleNamespace(kafka_bootstrap="127.0.0.1:5", redis_url="redis://127.0.0.1:6/0", milvus_uri="/t/m.db")
    model = SimpleNamespace(directory=Path("/models/m"))
    first = bench_settings(base, status, model)  # type: ignore[arg-type]
    second = bench_settings(base, status, model)  # type: ignore[arg-type]
    assert first.kafka.bootstrap_servers == "127.0.0.1:5" and first.milvus.uri == "/t/m.db"
    assert first.redis.url.get_secret_value() == "redis://127.0.0.1:6/0"
    assert first.topics.listings != second.topics.listings and first.milvus.collection != second.milvus.collection
    assert first.kafka.group_id != second.kafka.group_id
    assert (first.worker.batch_max_size, first.worker.batch_timeout_s, first.milvus.candidates) == (32, 0.3, 7)
    assert first.photos.enabled is False and first.model.model_dir == Path("/models/m")
