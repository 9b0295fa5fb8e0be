"""The first half of a micro-batch, which needs no store: the listings' vectors.

Parsing's output -> the latest event per listing -> text vectors (Redis content cache, else the encoder)
and photos (loaded on the loader's threads meanwhile, then hashed and embedded). Nothing here reads or
writes Milvus, so the live worker runs it for the next batch while the current one is in Milvus and Kafka
(stream.worker.live): the encoder works while the store does.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from decider.bundle import ModelBundle
from infra.cache import CachedVectors, EmbeddingCache
from stream.events import DuplicateFound, DuplicateRetracted
from stream.worker.incoming import Incoming, latest_per_listing, split_ops
from stream.worker.lifecycle import Deletion
from stream.worker.photos import PhotoResults, PhotoStep


@dataclass
class PipelineReport:
    """What the pipeline did with one batch: counts, the duplicate-found events, time per stage."""

    listings: int = 0
    encoded: int = 0
    cache_hits: int = 0
    candidates: int = 0
    photos_loaded: int = 0
    photo_failures: Counter[str] = field(default_factory=Counter)  # by reason
    duplicates: list[DuplicateFound] = field(default_factory=list)
    updates: int = 0  # listing-updated events among the listings
    deletes: int = 0
    retractions: list[DuplicateRetracted] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + time.perf_counter() - started


@dataclass(frozen=True)
class BatchVectors:
    text: np.ndarray  # (n, dim)
    photos: Sequence[np.ndarray | None]  # per listing: its photo vector, None without one


@dataclass
class PreparedListings:
    """A batch ready for the store: its listings (latest event each) with their vectors, and its deletions."""

    items: list[Incoming]
    deletions: list[Deletion]
    vectors: BatchVectors
    report: PipelineReport


class ListingPreparer:
    def __init__(self, model: ModelBundle, cache: EmbeddingCache | None, photos: PhotoStep | None) -> None:
        self.model = model
        self.cache = cache
        self.photos = photos

    def prepare(self, batch: Sequence[Incoming | Deletion]) -> PreparedListings:
        items, deletions = split_ops(latest_per_listing(batch))
        report = PipelineReport(listings=len(items), updates=sum(i.is_update for i in items), deletes=len(deletions))
        if not items:
            empty = np.zeros((0, self.model.reducer.dim), dtype=np.float32)
            return PreparedListings(items, deletions, BatchVectors(empty, []), report)
        loading = self.photos.start([item.listing for item in items]) if self.photos is not None else None
        text = self._text_vectors(items, report)  # photos load meanwhile, on the loader's threads
        photo_vectors: list[np.ndarray | None] = [None] * len(items)
        if loading is not None and self.photos is not None:
            with report.timed("photos"):
                found = self.photos.finish(loading, [item.listing for item in items])
            items, photo_vectors = _with_photos(items, found, report)
        return PreparedListings(items, deletions, BatchVectors(text, photo_vectors), report)

    def _text_vectors(self, items: Sequence[Incoming], report: PipelineReport) -> np.ndarray:
        """Reduced text vectors, from the content cache where possible."""
        hashes = [item.content_hash for item in items]
        with report.timed("cache"):
            cached = self.cache.get_by_content(hashes) if self.cache is not None else {}
        missing = [i for i, content_hash in enumerate(hashes) if content_hash not in cached]
        report.cache_hits = len(items) - len(missing)
        report.encoded = len(missing)
        vectors = np.zeros((len(items), self.model.reducer.dim), dtype=np.float32)
        for i, content_hash in enumerate(hashes):
            if content_hash in cached:
                vectors[i] = cached[content_hash].text
        if missing:
            texts = [items[i].text for i in missing]
            with report.timed("encode"):
                vectors[missing] = self.model.embed(texts)
            with report.timed("cache"):
                if self.cache is not None:
                    self.cache.put_by_content({hashes[i]: CachedVectors(vectors[i], None) for i in missing})
        return vectors


def _with_photos(
    items: Sequence[Incoming], found: PhotoResults, report: PipelineReport
) -> tuple[list[Incoming], list[np.ndarray | None]]:
    """The items with their photos' hashes and failures, and the photo vectors; counted in ``report``."""
    report.photos_loaded = found.loaded
    report.photo_failures.update(found.failed_by_reason)
    updated = [
        dataclasses.replace(
            item,
            photo_phash=phash,
            photo_error=None if failure is None else f"{failure.reason}: {failure.message}",
        )
        if phash is not None or failure is not None
        else item
        for item, phash, failure in zip(items, found.phashes, found.failures, strict=True)
    ]
    return updated, list(found.vectors)
