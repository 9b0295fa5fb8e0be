"""Labeled pairs mined from each listing's nearest neighbours: the pairs the decider meets behind the ANN search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from decider.datasets.labeled import Dataset, LabeledPair
from decider.training.products import products_of
from encoders.listing import listing_text
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder


def nearest_neighbour_pairs(ids: Sequence[str], vectors: np.ndarray, neighbours: int) -> list[tuple[str, str]]:
    """Each listing with its ``neighbours`` nearest others by dot product, every unordered pair once.

    ``vectors`` are the unit rows of ``ids``. A pair keeps the orientation it was first found in
    (listing, neighbour), scanning the listings in order.
    """
    if neighbours <= 0 or len(ids) < 2:
        return []
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -np.inf)
    k = min(neighbours, len(ids) - 1)
    nearest = np.argpartition(-similarities, k, axis=1)[:, :k]
    found: dict[frozenset[str], tuple[str, str]] = {}
    for row, columns in enumerate(nearest):
        for column in columns:
            found.setdefault(frozenset((ids[row], ids[column])), (ids[row], ids[column]))
    return list(found.values())


def neighbour_pairs(
    encoder: TextEncoder,
    reducer: PcaReducer,
    listings: Mapping[str, Mapping[str, Any]],
    clusters: Mapping[str, str],
    *,
    neighbours: int = 10,
) -> list[LabeledPair]:
    """Labeled pairs shaped like the worker's candidates: each clustered listing's nearest neighbours.

    Calibrating on these, rather than on a balanced pair sample, sets the threshold for the
    mix of near-misses the decider really sees behind the ANN search.
    """
    ids = [listing_id for listing_id in listings if listing_id in clusters]
    vectors = reducer.transform(encoder.encode([listing_text(listings[i]) for i in ids]))
    return [
        LabeledPair(left, right, int(clusters[left] == clusters[right]))
        for left, right in nearest_neighbour_pairs(ids, vectors, neighbours)
    ]


def mine_hard_negatives(
    dataset: Dataset, pairs: Sequence[LabeledPair], vectors: Mapping[str, np.ndarray], neighbours: int
) -> list[LabeledPair]:
    """Nearest neighbours among a split's listings that are known to be other products.

    Products come from truth.csv, else from the split's own positive pairs
    (:func:`decider.training.products.clusters_from_positives`).
    """
    clusters = products_of(dataset, pairs)
    ids = [i for i in sorted({p.left_id for p in pairs} | {p.right_id for p in pairs}) if i in clusters]
    # Never mine a pair that another split labels: that would train on valid or test pairs.
    labeled = {pair.key() for split in dataset.splits() for pair in dataset.pairs(split)}
    matrix = np.array([vectors[i] for i in ids])
    return [
        LabeledPair(left, right, 0)
        for left, right in nearest_neighbour_pairs(ids, matrix, neighbours)
        if clusters[left] != clusters[right] and frozenset((left, right)) not in labeled
    ]
