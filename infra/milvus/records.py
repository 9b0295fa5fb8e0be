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


@dataclass(frozen=True)
class Neighbour:
    """A stored listing found by a vector search or by a shared identifier code."""

    listing_id: str
    similarity: float  # inner product of normalised vectors, i.e. cosine similarity
    created_at_ms: int
    attributes: Mapping[str, Any] | None = None
    codes: tuple[str, ...] = ()
    first_seen_ms: int = 0
