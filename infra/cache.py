"""Redis cache of reduced embeddings, by content hash and by listing id.

The cache is only an optimisation: when Redis is down or slow every method logs a (rate-limited)
warning, counts the failure in ``errors`` and behaves like a miss or a no-op, so the pipeline keeps
running on Milvus alone. Short socket timeouts and no client-side retries bound the cost of a dead
Redis to one timeout per call.

Keys are ``{namespace}:content:{hash}`` and ``{namespace}:listing:{id}``; the namespace carries the
model version, so a new model never reads vectors produced by the old one.

Value encoding: one header byte, then little-endian float32s::

    0x01 | text (dim floats)                  text only
    0x02 | text (dim floats) | image (dim)    text and image

The dimension follows from the length; anything else (wrong header, odd length) reads as a miss.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

SOCKET_TIMEOUT_S = 0.25
WARNING_INTERVAL_S = 30.0

_TEXT_ONLY = 0x01
_TEXT_AND_IMAGE = 0x02
_FLOAT32 = np.dtype("<f4")
_CONTENT = "content"
_LISTING = "listing"
KINDS = (_CONTENT, _LISTING)


@dataclass(frozen=True)
class CachedVectors:
    text: np.ndarray
    image: np.ndarray | None


def encode_vectors(vectors: CachedVectors) -> bytes:
    text = np.asarray(vectors.text, dtype=_FLOAT32).ravel()
    if vectors.image is None:
        return bytes([_TEXT_ONLY]) + text.tobytes()
    image = np.asarray(vectors.image, dtype=_FLOAT32).ravel()
    if image.shape != text.shape:
        raise ValueError(f"image vector has {image.size} dimensions but the text vector has {text.size}")
    return bytes([_TEXT_AND_IMAGE]) + text.tobytes() + image.tobytes()


def decode_vectors(payload: bytes) -> CachedVectors | None:
    """The vectors in ``payload``, or None when it is not a value this module wrote."""
    if len(payload) < 1 + _FLOAT32.itemsize:
        return None
    header, body = payload[0], payload[1:]
    parts = {_TEXT_ONLY: 1, _TEXT_AND_IMAGE: 2}.get(header)
    if parts is None or len(body) % (parts * _FLOAT32.itemsize) != 0:
        return None
    floats = np.frombuffer(body, dtype=_FLOAT32).astype(np.float32)  # a writable, native-order copy
    if parts == 1:
        return CachedVectors(text=floats, image=None)
    text, image = np.split(floats, 2)
    return CachedVectors(text=text, image=image)


class EmbeddingCache:
    """Best-effort Redis cache; never raises for Redis failures."""

    def __init__(self, client: redis.Redis, *, namespace: str, ttl_seconds: int) -> None:
        if not namespace or any(char.isspace() for char in namespace):
            raise ValueError(f"namespace must be non-empty without whitespace, got {namespace!r}")
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be at least 1, got {ttl_seconds}")
        if client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("the Redis client must return bytes: create it with decode_responses=False")
        self._client = client
        self.namespace = namespace
        self.ttl_seconds = ttl_seconds
        self.errors = 0  # Redis failures swallowed so far
        self.corrupt_values = 0  # values that did not decode and were read as misses
        # (kind, "hit" | "miss") -> keys looked up: the worker's hit rate (stream.worker.metrics reads it)
        self._lookups: dict[tuple[str, str], int] = {(kind, result): 0 for kind in KINDS for result in ("hit", "miss")}
        self._lock = threading.Lock()
        self._last_warning_at = float("-inf")
        self._suppressed_warnings = 0

    @classmethod
    def from_url(cls, url: str, *, namespace: str, ttl_seconds: int) -> EmbeddingCache:
        client = redis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=SOCKET_TIMEOUT_S,
            retry=Retry(NoBackoff(), retries=0),  # a miss is cheaper than a retry
            decode_responses=False,
        )
        return cls(client, namespace=namespace, ttl_seconds=ttl_seconds)

    def get_by_content(self, content_hashes: Sequence[str]) -> dict[str, CachedVectors]:
        return self._get_many(_CONTENT, content_hashes)

    def put_by_content(self, items: Mapping[str, CachedVectors]) -> None:
        self._put_many(_CONTENT, items)

    def get_listings(self, listing_ids: Sequence[str]) -> dict[str, CachedVectors]:
        return self._get_many(_LISTING, listing_ids)

    def put_listings(self, items: Mapping[str, CachedVectors]) -> None:
        self._put_many(_LISTING, items)

    def forget_listings(self, listing_ids: Sequence[str]) -> None:
        """Drops deleted listings' vectors (those by content stay: other listings may share the content)."""
        if not listing_ids:
            return
        try:
            self._client.delete(*[self._key(_LISTING, name) for name in listing_ids])
        except redis.RedisError as exc:
            self._record_failure(f"DEL {_LISTING}", exc)

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except redis.RedisError as exc:
            self._record_failure("ping", exc)
            return False

    def lookup_counts(self) -> dict[tuple[str, str], int]:
        """Keys looked up so far by (kind, "hit" | "miss"); a failed or undecodable read counts as misses."""
        with self._lock:
            return dict(self._lookups)

    def content_key(self, content_hash: str) -> str:
        return self._key(_CONTENT, content_hash)

    def listing_key(self, listing_id: str) -> str:
        return self._key(_LISTING, listing_id)

    def _key(self, kind: str, name: str) -> str:
        return f"{self.namespace}:{kind}:{name}"

    def _get_many(self, kind: str, names: Sequence[str]) -> dict[str, CachedVectors]:
        unique = list(dict.fromkeys(names))
        if not unique:
            return {}
        try:
            payloads = self._client.mget([self._key(kind, name) for name in unique])
        except redis.RedisError as exc:
            self._record_failure(f"MGET {kind}", exc)
            self._count_lookups(kind, hits=0, misses=len(unique))
            return {}
        found: dict[str, CachedVectors] = {}
        for name, payload in zip(unique, payloads, strict=True):
            vectors = decode_vectors(payload) if payload is not None else None
            if vectors is not None:
                found[name] = vectors
            elif payload is not None:
                self._record_corrupt(self._key(kind, name))
        self._count_lookups(kind, hits=len(found), misses=len(unique) - len(found))
        return found

    def _count_lookups(self, kind: str, *, hits: int, misses: int) -> None:
        with self._lock:
            self._lookups[(kind, "hit")] += hits
            self._lookups[(kind, "miss")] += misses

    def _put_many(self, kind: str, items: Mapping[str, CachedVectors]) -> None:
        if not items:
            return
        pipeline = self._client.pipeline(transaction=False)  # one round trip, no MULTI needed
        for name, vectors in items.items():
            pipeline.set(self._key(kind, name), encode_vectors(vectors), ex=self.ttl_seconds)
        try:
            pipeline.execute()
        except redis.RedisError as exc:
            self._record_failure(f"SET {kind}", exc)

    def _record_failure(self, operation: str, exc: redis.RedisError) -> None:
        with self._lock:
            self.errors += 1
        self._warn("redis %s failed, carrying on without the cache: %s", operation, exc)

    def _record_corrupt(self, key: str) -> None:
        with self._lock:
            self.corrupt_values += 1
        self._warn("ignoring undecodable cache value at %s", key)

    def _warn(self, message: str, *args: object) -> None:
        """At most one warning per WARNING_INTERVAL_S, saying how many were held back."""
        with self._lock:
            now = time.monotonic()
            if now - self._last_warning_at < WARNING_INTERVAL_S:
                self._suppressed_warnings += 1
                return
            suppressed, self._suppressed_warnings = self._suppressed_warnings, 0
            self._last_warning_at = now
        suffix = f" ({suppressed} similar warnings suppressed)" if suppressed else ""
        log.warning(message + suffix, *args)
