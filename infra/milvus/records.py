"""What callers hand the listing store (:class:`ListingRecord`) and get back from it (:class:`Neighbour`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ListingRecord:
    listing_id: str
    text_vector: np.ndarray  # (dim,) float32, L2-normalised
    image_vector: np.ndarray | None  # (dim,) float32, or None when the listing has no image
    category: str | None
    seller_id: str | None
    created_at_ms: int
    price: float | None
    attributes: Mapping[str, Any] | None = None  # what deciders read; clipped to MAX_ATTRIBUTES_BYTES
    codes: tuple[str, ...] = ()  # normalised identifiers, at most MAX_CODES_PER_LISTING
    first_seen_ms: int | None = None  # when the listing was first stored; None = created_at
    text: str = ""  # what the lexical (BM25) channel indexes, where the collection has one
    match_group: str | None = None  # the group of earlier listings it matched; None = its own id
    # What its own latest duplicate-found event reported (best first) and that event's id: what a
    # later update or delete retracts. Empty when it reported nothing.
    reported_matches: tuple[str, ...] = ()
    reported_event: str = ""


@dataclass(frozen=True)
class Neighbour:
    """A stored listing found by a vector or BM25 search, or as a member of a match group."""

    listing_id: str
    similarity: float  # inner product of normalised vectors, i.e. cosine similarity
    created_at_ms: int
    attributes: Mapping[str, Any] | None = None
    first_seen_ms: int = 0
    match_group: str = ""  # "" where the collection predates match groups

    @property
    def group(self) -> str:
        """The match group it belongs to: its own id until it matched an earlier listing."""
        return self.match_group or self.listing_id
