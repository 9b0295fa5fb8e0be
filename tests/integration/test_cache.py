"""EmbeddingCache against the session redis-server, and against a closed port."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import redis

from infra.cache import CachedVectors, EmbeddingCache, decode_vectors, encode_vectors
from infra.stack.services import free_port

DIM = 128
TTL_S = 120


def vectors(seed: int, *, with_image: bool) -> CachedVectors:
    rng = np.random.default_rng(seed)
    image = rng.standard_normal(DIM).astype(np.float32) if with_image else None
    return CachedVectors(text=rng.standard_normal(DIM).astype(np.float32), image=image)


def assert_same(actual: CachedVectors, expected: CachedVectors) -> None:
    np.testing.assert_array_equal(actual.text, expected.text)
    if expected.image is None:
        assert actual.image is None
    else:
        assert actual.image is not None
        np.testing.assert_array_equal(actual.image, expected.image)


@pytest.fixture
def raw_redis(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def cache(redis_url: str, unique_name: Callable[[str], str]) -> EmbeddingCache:
    return EmbeddingCache.from_url(redis_url, namespace=unique_name("dedup_test"), ttl_seconds=TTL_S)


@pytest.mark.integration
def test_content_vectors_round_trip_in_one_mget(cache: EmbeddingCache, raw_redis: redis.Redis) -> None:
    stored = {"hash-text": vectors(1, with_image=False), "hash-both": vectors(2, with_image=True)}
    cache.put_by_content(stored)
    mget_calls_before = _mget_calls(raw_redis)

    found = cache.get_by_content(["hash-text", "hash-both", "hash-unknown"])

    assert _mget_calls(raw_redis) == mget_calls_before + 1
    assert sorted(found) == ["hash-both", "hash-text"]
    for key, expected in stored.items():
        assert_same(found[key], expected)
    assert cache.errors == 0


@pytest.mark.integration
def test_listing_vectors_round_trip_apart_from_content_keys(cache: EmbeddingCache) -> None:
    by_listing, by_content = vectors(3, with_image=True), vectors(4, with_image=False)
    cache.put_listings({"same-name": by_listing})
    cache.put_by_content({"same-name": by_content})

    assert_same(cache.get_listings(["same-name"])["same-name"], by_listing)
    assert_same(cache.get_by_content(["same-name"])["same-name"], by_content)


@pytest.mark.integration
def test_values_expire_after_the_configured_ttl(cache: EmbeddingCache, raw_redis: redis.Redis) -> None:
    cache.put_by_content({"hash": vectors(5, with_image=False)})
    cache.put_listings({"listing": vectors(6, with_image=False)})

    assert 0 < raw_redis.ttl(cache.content_key("hash")) <= TTL_S
    assert 0 < raw_redis.ttl(cache.listing_key("listing")) <= TTL_S


@pytest.mark.integration
def test_namespaces_do_not_see_each_other(redis_url: str, unique_name: Callable[[str], str]) -> None:
    old_model = EmbeddingCache.from_url(redis_url, namespace=unique_name("model_a"), ttl_seconds=TTL_S)
    new_model = EmbeddingCache.from_url(redis_url, namespace=unique_name("model_b"), ttl_seconds=TTL_S)
    old_model.put_by_content({"hash": vectors(7, with_image=False)})
    old_model.put_listings({"listing": vectors(8, with_image=False)})

    assert new_model.get_by_content(["hash"]) == {}
    assert new_model.get_listings(["listing"]) == {}
    assert "hash" in old_model.get_by_content(["hash"])


@pytest.mark.integration
def test_a_corrupt_value_reads_as_a_miss(cache: EmbeddingCache, raw_redis: redis.Redis) -> None:
    raw_redis.set(cache.content_key("garbled"), b"\x07not-vectors", ex=TTL_S)
    raw_redis.set(cache.content_key("truncated"), encode_vectors(vectors(9, with_image=False))[:-3], ex=TTL_S)

    assert cache.get_by_content(["garbled", "truncated"]) == {}
    assert cache.corrupt_values == 2
    assert cache.errors == 0


@pytest.mark.integration
def test_a_dead_redis_degrades_to_misses(caplog: pytest.LogCaptureFixture) -> None:
    dead = EmbeddingCache.from_url(f"redis://127.0.0.1:{free_port()}/0", namespace="dedup_dead", ttl_seconds=TTL_S)

    with caplog.at_level(logging.WARNING, logger="infra.cache"):
        assert dead.get_by_content(["hash"]) == {}
        dead.put_by_content({"hash": vectors(10, with_image=False)})
        assert dead.get_listings(["listing"]) == {}
        dead.put_listings({"listing": vectors(11, with_image=True)})
        assert dead.ping() is False

    assert dead.errors == 5
    warnings = [record for record in caplog.records if record.name == "infra.cache"]
    assert len(warnings) == 1, "warnings about a dead Redis are rate-limited"
    assert "carrying on without the cache" in warnings[0].getMessage()


def test_empty_requests_do_not_touch_redis() -> None:
    unused = EmbeddingCache.from_url(f"redis://127.0.0.1:{free_port()}/0", namespace="dedup_idle", ttl_seconds=TTL_S)

    assert unused.get_by_content([]) == {}
    unused.put_listings({})
    assert unused.errors == 0


def test_encoding_tells_text_only_from_text_and_image() -> None:
    text_only, both = vectors(12, with_image=False), vectors(13, with_image=True)

    assert len(encode_vectors(text_only)) == 1 + 4 * DIM
    assert len(encode_vectors(both)) == 1 + 8 * DIM
    decoded_text_only, decoded_both = decode_vectors(encode_vectors(text_only)), decode_vectors(encode_vectors(both))
    assert decoded_text_only is not None and decoded_both is not None
    assert_same(decoded_text_only, text_only)
    assert_same(decoded_both, both)


@pytest.mark.parametrize("payload", [b"", b"\x01", b"\x01abc", b"\x02" + b"\x00" * 12, b"\x09" + b"\x00" * 8])
def test_malformed_payloads_decode_to_none(payload: bytes) -> None:
    assert decode_vectors(payload) is None


def test_settings_that_would_break_the_cache_are_refused() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(ValueError, match="ttl_seconds"):
        EmbeddingCache.from_url(url, namespace="dedup", ttl_seconds=0)
    with pytest.raises(ValueError, match="namespace"):
        EmbeddingCache.from_url(url, namespace="", ttl_seconds=TTL_S)
    with pytest.raises(ValueError, match="decode_responses=False"):
        EmbeddingCache(redis.Redis.from_url(url, decode_responses=True), namespace="dedup", ttl_seconds=TTL_S)


def _mget_calls(client: redis.Redis) -> int:
    return int(client.info("commandstats").get("cmdstat_mget", {}).get("calls", 0))
