"""The embedding cache counts its hits and misses (the worker's hit rate) without Redis: a fake client."""

from __future__ import annotations

from typing import Any

import numpy as np
import redis

from infra.cache import CachedVectors, EmbeddingCache, encode_vectors


class FakeRedis:
    def __init__(self, values: dict[str, bytes], *, down: bool = False) -> None:
        self.values = values
        self.down = down

    def get_connection_kwargs(self) -> dict[str, Any]:
        return {}

    def mget(self, keys: list[str]) -> list[bytes | None]:
        if self.down:
            raise redis.ConnectionError("Connection refused")
        return [self.values.get(key) for key in keys]


def test_hits_and_misses_are_counted_per_kind_and_a_corrupt_value_is_a_miss() -> None:
    good = encode_vectors(CachedVectors(np.ones(4, np.float32), None))
    client = FakeRedis({"ns:content:a": good, "ns:content:bad": b"\x09junk", "ns:listing:x": good})
    cache = EmbeddingCache(client, namespace="ns", ttl_seconds=60)  # type: ignore[arg-type]

    cache.get_by_content(["a", "a", "b", "bad"])  # "a" twice is one lookup
    cache.get_listings(["x", "y"])

    assert cache.lookup_counts() == {
        ("content", "hit"): 1, ("content", "miss"): 2, ("listing", "hit"): 1, ("listing", "miss"): 1,
    }


def test_a_redis_failure_counts_every_key_as_a_miss_and_an_error() -> None:
    cache = EmbeddingCache(FakeRedis({}, down=True), namespace="ns", ttl_seconds=60)  # type: ignore[arg-type]
    assert cache.get_by_content(["a", "b"]) == {}
    assert cache.lookup_counts()[("content", "miss")] == 2 and cache.errors == 1
