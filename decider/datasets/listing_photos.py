"""A data set's listing photos, read once for training and evaluation: hashes and, with an image encoder, vectors.

Listings name their photo in ``image`` (or the first of ``images``), a path relative to the data set's folder
(or a given root). What the worker computes per batch, this computes for a whole data set, through the same
loader, so that the decider is trained on the photo features it will see in the stream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from tqdm import tqdm

from encoders.images.fetch import FetchLimits, LocalPhotoFetcher, RoutingPhotoFetcher
from encoders.images.loader import LoadedPhoto, PhotoFailure, PhotoLoader
from encoders.images.phash import parse_phash, photo_phash

EmbedPhotos = Callable[[Sequence[Image.Image]], np.ndarray]
CHUNK = 64  # photos decoded and embedded at a time: bounded memory for large sets


@dataclass
class ListingPhotos:
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # listing id -> 128-d photo vector
    hashed: int = 0  # listings that got their image_phash from their photo
    failed: Counter[str] = field(default_factory=Counter)  # failure reason -> listings

    def summary(self) -> dict[str, Any]:
        return {"vectors": len(self.vectors), "hashed": self.hashed, "failed": dict(self.failed)}


def photo_ref(listing: Mapping[str, Any]) -> str | None:
    """``image``, else the first of ``images``."""
    if listing.get("image"):
        return str(listing["image"])
    return next((str(ref) for ref in listing.get("images") or () if ref), None)


def has_photos(listings: Mapping[str, Mapping[str, Any]]) -> bool:
    return any(photo_ref(listing) for listing in listings.values())


def read_listing_photos(
    listings: MutableMapping[str, dict[str, Any]],
    root: Path,
    embed: EmbedPhotos | None = None,
    *,
    threads: int = 4,
    progress: bool = False,
) -> ListingPhotos:
    """Sets ``image_phash`` from the photo where a listing lacks one (in place) and, with ``embed``, returns
    each photo's vector. A photo that cannot be read is counted and skipped, as in the worker."""
    wanted = [
        listing_id
        for listing_id, listing in listings.items()
        if photo_ref(listing) and (embed is not None or parse_phash(listing.get("image_phash")) is None)
    ]
    result = ListingPhotos()
    limits = FetchLimits()
    with PhotoLoader(RoutingPhotoFetcher(LocalPhotoFetcher(root, limits), None), limits, threads=threads) as loader:
        bar = tqdm(total=len(wanted), desc="photos", unit="photo", disable=not progress)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            outcomes = loader.load([photo_ref(listings[listing_id]) for listing_id in chunk])
            loaded = [(i, o) for i, o in zip(chunk, outcomes) if isinstance(o, LoadedPhoto)]
            for outcome in outcomes:
                if isinstance(outcome, PhotoFailure):
                    result.failed[outcome.reason] += 1
            _hash_into(listings, loaded, result)
            if embed is not None and loaded:
                result.vectors.update(zip((i for i, _ in loaded), embed([o.image for _, o in loaded])))
            bar.update(len(chunk))
        bar.close()
    return result


def _hash_into(
    listings: MutableMapping[str, dict[str, Any]], loaded: Sequence[tuple[str, LoadedPhoto]], result: ListingPhotos
) -> None:
    for listing_id, outcome in loaded:
        if parse_phash(listings[listing_id].get("image_phash")) is None:
            listings[listing_id]["image_phash"] = photo_phash(outcome.image)
            result.hashed += 1
