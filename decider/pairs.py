"""Candidate pairs as the decider sees them: one row per (new listing, earlier candidate)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class CandidatePairs:
    """Column-oriented so a decider scores a whole micro-batch in one call.

    ``image_similarity`` is NaN where either side has no image; ``*_listing`` carry the raw
    event fields (a trained decider reads identifiers, units and prices from them).
    """

    query_ids: Sequence[str]
    candidate_ids: Sequence[str]
    text_similarity: np.ndarray
    image_similarity: np.ndarray
    query_text: np.ndarray
    candidate_text: np.ndarray
    query_listings: Sequence[Mapping[str, Any]] = field(default_factory=list)
    candidate_listings: Sequence[Mapping[str, Any] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.query_ids)
        sizes = {
            "candidate_ids": len(self.candidate_ids),
            "text_similarity": len(self.text_similarity),
            "image_similarity": len(self.image_similarity),
            "query_text": len(self.query_text),
            "candidate_text": len(self.candidate_text),
        }
        wrong = {name: size for name, size in sizes.items() if size != n}
        if wrong:
            raise ValueError(f"CandidatePairs columns must all have {n} rows, got {wrong}")

    def __len__(self) -> int:
        return len(self.query_ids)

    @classmethod
    def from_vectors(
        cls,
        query_ids: Sequence[str],
        candidate_ids: Sequence[str],
        query_text: np.ndarray,
        candidate_text: np.ndarray,
        **extra: Any,
    ) -> "CandidatePairs":
        """Pairs with similarities computed from L2-normalised vectors (dot product = cosine)."""
        text_similarity = np.einsum("ij,ij->i", query_text, candidate_text).astype(np.float32)
        image_similarity = extra.pop("image_similarity", None)
        if image_similarity is None:
            image_similarity = np.full(len(query_ids), np.nan, dtype=np.float32)
        return cls(
            query_ids=query_ids,
            candidate_ids=candidate_ids,
            text_similarity=text_similarity,
            image_similarity=image_similarity,
            query_text=query_text,
            candidate_text=candidate_text,
            **extra,
        )

    def __add__(self, other: "CandidatePairs") -> "CandidatePairs":
        """These pairs followed by ``other``'s (listing columns padded with None where one side lacks them)."""
        return CandidatePairs(
            query_ids=[*self.query_ids, *other.query_ids],
            candidate_ids=[*self.candidate_ids, *other.candidate_ids],
            text_similarity=np.concatenate([self.text_similarity, other.text_similarity]),
            image_similarity=np.concatenate([self.image_similarity, other.image_similarity]),
            query_text=np.concatenate([self.query_text, other.query_text]),
            candidate_text=np.concatenate([self.candidate_text, other.candidate_text]),
            query_listings=[*_padded(self.query_listings, len(self)), *_padded(other.query_listings, len(other))],
            candidate_listings=[
                *_padded(self.candidate_listings, len(self)),
                *_padded(other.candidate_listings, len(other)),
            ],
        )

    def rows(self, indices: Sequence[int] | np.ndarray) -> "CandidatePairs":
        """The pairs at ``indices``, in that order."""
        pick = [int(i) for i in indices]
        return CandidatePairs(
            query_ids=[self.query_ids[i] for i in pick],
            candidate_ids=[self.candidate_ids[i] for i in pick],
            text_similarity=self.text_similarity[pick],
            image_similarity=self.image_similarity[pick],
            query_text=self.query_text[pick],
            candidate_text=self.candidate_text[pick],
            query_listings=[self.query_listings[i] for i in pick] if self.query_listings else [],
            candidate_listings=[self.candidate_listings[i] for i in pick] if self.candidate_listings else [],
        )


def _padded(listings: Sequence[Mapping[str, Any] | None], size: int) -> list[Mapping[str, Any] | None]:
    return [*listings, *[None] * (size - len(listings))]
