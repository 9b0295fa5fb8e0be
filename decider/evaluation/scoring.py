"""Scoring a labeled split the way the worker does: its encoder, reducer and decider."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from decider.bundle import ModelBundle
from decider.datasets.candidate_pairs import labeled_pairs
from decider.datasets.labeled import Dataset
from encoders.listing import listing_text


def embed_listings(
    model: ModelBundle, listings: Mapping[str, Mapping[str, Any]], ids: Sequence[str]
) -> dict[str, np.ndarray]:
    """listing_id -> the model's reduced vector, each listing of ``ids`` embedded once."""
    unique = list(dict.fromkeys(ids))
    vectors = model.embed([listing_text(listings[i]) for i in unique])
    return dict(zip(unique, vectors))


def score_split(model: ModelBundle, dataset: Dataset, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Decider probabilities and labels for a split, through the worker's encoder, reducer and decider."""
    pairs = dataset.pairs(split)
    ids = [pair.left_id for pair in pairs] + [pair.right_id for pair in pairs]
    vectors = embed_listings(model, dataset.listings, ids)
    candidate_pairs, labels = labeled_pairs(vectors, dataset.listings, pairs)
    return model.decider.score(candidate_pairs), labels
