"""Labeled pairs as the decider sees them: ``CandidatePairs`` plus their labels, for training and evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from decider.datasets.labeled import LabeledPair
from decider.pairs import CandidatePairs
from encoders.listing import decider_fields


def labeled_pairs(
    vectors: Mapping[str, np.ndarray],
    listings: Mapping[str, Mapping[str, Any]],
    pairs: Sequence[LabeledPair],
    photo_vectors: Mapping[str, np.ndarray] | None = None,
) -> tuple[CandidatePairs, np.ndarray]:
    """CandidatePairs (left = query, right = candidate) and the labels of ``pairs``, in their order.

    ``photo_vectors`` give the pairs' photo similarity (NaN where a side has no photo vector)."""
    query_ids = [pair.left_id for pair in pairs]
    candidate_ids = [pair.right_id for pair in pairs]
    dim = len(next(iter(vectors.values()))) if vectors else 0
    query_text = np.array([vectors[i] for i in query_ids], dtype=np.float32).reshape(-1, dim)
    candidate_text = np.array([vectors[i] for i in candidate_ids], dtype=np.float32).reshape(-1, dim)
    candidate_pairs = CandidatePairs.from_vectors(
        query_ids,
        candidate_ids,
        query_text,
        candidate_text,
        image_similarity=photo_similarity(photo_vectors or {}, query_ids, candidate_ids),
        query_listings=[decider_fields(listings[i]) for i in query_ids],
        candidate_listings=[decider_fields(listings[i]) for i in candidate_ids],
    )
    return candidate_pairs, np.array([int(pair.label) for pair in pairs], dtype=np.int64)


def photo_similarity(
    photo_vectors: Mapping[str, np.ndarray], query_ids: Sequence[str], candidate_ids: Sequence[str]
) -> np.ndarray:
    """Cosine of the two L2-normalised photo vectors per pair; NaN where either side has none."""
    return np.array(
        [
            float(np.dot(photo_vectors[q], photo_vectors[c])) if q in photo_vectors and c in photo_vectors else np.nan
            for q, c in zip(query_ids, candidate_ids)
        ],
        dtype=np.float32,
    )
