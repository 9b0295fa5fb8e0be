"""The photo step of a micro-batch: load each listing's photo, hash it, embed it when the model can.

Loading (download or file read, decode) runs on a thread pool started *before* the batch's text is
encoded, so the two overlap. A photo that cannot be had never fails the batch: its listing is
matched on text alone, and the failure is counted and named in the listing's duplicate-found event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from encoders.images.fetch import FetchLimits, HttpPhotoFetcher, LocalPhotoFetcher, RoutingPhotoFetcher
from encoders.images.loader import LoadedPhoto, PhotoFailure, PhotoLoader, PhotoOutcome
from encoders.images.phash import parse_phash, photo_phash
from encoders.listing import Listing

EmbedPhotos = Callable[[Sequence[Image.Image]], np.ndarray]


@dataclass
class PhotoResults:
    """Per listing of the batch, in batch order."""

    phashes: list[str | None]  # the photo's pHash where the listing did not carry one
    vectors: list[np.ndarray | None]  # 128-d photo vectors, where there is an image encoder
    failures: list[PhotoFailure | None]
    loaded: int = 0
    failed_by_reason: Counter[str] = field(default_factory=Counter)


class PendingPhotos:
    def __init__(self, wanted: list[bool], future: Future[list[PhotoOutcome]] | None) -> None:
        self.wanted = wanted
        self.future = future


class PhotoStep:
    def __init__(self, loader: PhotoLoader, embed: EmbedPhotos | None) -> None:
        self.loader = loader
        self.embed = embed

    def start(self, listings: Sequence[Listing]) -> PendingPhotos:
        """Starts loading the photos the batch needs: all of them with an image encoder, else only
        those of listings without a stored ``image_phash`` (the hash is all a photo gives then)."""
        refs = [self._wanted_ref(listing) for listing in listings]
        wanted = [ref is not None for ref in refs]
        future = self.loader.submit(refs) if any(wanted) else None
        return PendingPhotos(wanted, future)

    def finish(self, pending: PendingPhotos, listings: Sequence[Listing]) -> PhotoResults:
        outcomes: list[PhotoOutcome] = pending.future.result() if pending.future else [None] * len(listings)
        results = PhotoResults(
            phashes=[None] * len(listings), vectors=[None] * len(listings), failures=[None] * len(listings)
        )
        loaded_rows = []
        for row, (listing, outcome) in enumerate(zip(listings, outcomes)):
            if isinstance(outcome, PhotoFailure):
                results.failures[row] = outcome
                results.failed_by_reason[outcome.reason] += 1
            elif isinstance(outcome, LoadedPhoto):
                loaded_rows.append(row)
                if parse_phash(listing.image_phash) is None:
                    results.phashes[row] = photo_phash(outcome.image)
        results.loaded = len(loaded_rows)
        if self.embed is not None and loaded_rows:
            vectors = self.embed([outcomes[row].image for row in loaded_rows])  # type: ignore[union-attr]
            for row, vector in zip(loaded_rows, vectors):
                results.vectors[row] = vector
        return results

    def close(self) -> None:
        self.loader.close()

    def _wanted_ref(self, listing: Listing) -> str | None:
        ref = main_photo(listing)
        if ref is None or (self.embed is None and parse_phash(listing.image_phash) is not None):
            return None
        return ref


def main_photo(listing: Listing) -> str | None:
    """``image``, else the first of ``images``."""
    if listing.image:
        return listing.image
    return next((ref for ref in listing.images or () if ref), None)


def photo_loader(root: Path | None, hosts: frozenset[str] | None, limits: FetchLimits, threads: int) -> PhotoLoader:
    """Local paths under ``root`` (none without one); http(s) from ``hosts`` (None: any public host;
    empty: none). Private, loopback, link-local and metadata addresses are always refused."""
    local = LocalPhotoFetcher(Path(root), limits) if root else None
    http = None if hosts is not None and not hosts else HttpPhotoFetcher(limits, allowed_hosts=hosts)
    return PhotoLoader(RoutingPhotoFetcher(local, http), limits, threads=threads)
