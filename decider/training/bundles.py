"""Fitting a baseline model folder: reducer on a sample of listings, decider on labeled pairs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from decider.bundle import ModelBundle
from decider.datasets.labeled import LabeledPair
from decider.models.threshold import ThresholdDecider
from encoders.listing import listing_text
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder


def fit_baseline_bundle(
    encoder: TextEncoder,
    listings: Mapping[str, Mapping[str, Any]],
    pairs: Sequence[LabeledPair],
    *,
    dim: int = 128,
    clusters: Mapping[str, str] | None = None,
    reducer_sample: int = 5_000,
    seed: int = 0,
) -> ModelBundle:
    """Fit the reducer on up to ``reducer_sample`` listings, then calibrate the threshold decider.

    With ``clusters`` (listing_id -> product id) the decider is also calibrated on each
    listing's nearest neighbours, the pairs it will actually be asked about.
    """
    rng = np.random.default_rng(seed)
    ids = list(listings)
    sample = [ids[i] for i in sorted(rng.permutation(len(ids))[:reducer_sample])]
    vectors = encoder.encode([listing_text(listings[i]) for i in sample])
    reducer = PcaReducer.fit(vectors, dim=dim, source=encoder.version)
    if clusters is not None:
        pairs = [*pairs, *neighbour_pairs(encoder, reducer, listings, clusters)]
    decider = calibrate_threshold(encoder, reducer, listings, pairs)
    return ModelBundle(encoder=encoder, reducer=reducer, decider=decider)


def neighbour_pairs(
    encoder: TextEncoder,
    reducer: PcaReducer,
    listings: Mapping[str, Mapping[str, Any]],
    clusters: Mapping[str, str],
    *,
    neighbours: int = 10,
) -> list[LabeledPair]:
    """Labeled pairs shaped like the worker's candidates: each listing's nearest neighbours.

    Calibrating on these, rather than on a balanced pair sample, sets the threshold for the
    mix of near-misses the decider really sees behind the ANN search.
    """
    ids = [listing_id for listing_id in listings if listing_id in clusters]
    vectors = reducer.transform(encoder.encode([listing_text(listings[i]) for i in ids]))
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -np.inf)
    k = min(neighbours, len(ids) - 1)
    nearest = np.argpartition(-similarities, k, axis=1)[:, :k]
    seen: set[frozenset[str]] = set()
    pairs: list[LabeledPair] = []
    for row, columns in enumerate(nearest):
        for column in columns:
            key = frozenset((ids[row], ids[column]))
            if key not in seen:
                seen.add(key)
                pairs.append(LabeledPair(ids[row], ids[column], int(clusters[ids[row]] == clusters[ids[column]])))
    return pairs


def calibrate_threshold(
    encoder: TextEncoder,
    reducer: PcaReducer,
    listings: Mapping[str, Mapping[str, Any]],
    pairs: Sequence[LabeledPair],
) -> ThresholdDecider:
    pair_ids = sorted({pair.left_id for pair in pairs} | {pair.right_id for pair in pairs})
    reduced = reducer.transform(encoder.encode([listing_text(listings[i]) for i in pair_ids]))
    row = {listing_id: index for index, listing_id in enumerate(pair_ids)}
    left = reduced[[row[pair.left_id] for pair in pairs]]
    right = reduced[[row[pair.right_id] for pair in pairs]]
    similarities = np.einsum("ij,ij->i", left, right)
    labels = np.array([pair.label for pair in pairs])
    return ThresholdDecider.fit(similarities, labels)


def fit_trained_bundle(
    encoder: TextEncoder,
    reducer_listings: Mapping[str, Mapping[str, Any]],
    catalog: Any,
    *,
    dim: int = 128,
    seed: int = 0,
) -> ModelBundle:
    """A trained decider from a generated catalog (no fine-tuning): what the demo uses.

    Train and valid pairs come from disjoint product families of ``catalog`` (a
    ``decider.synthetic.SyntheticCatalog``): its labeled pairs plus each listing's nearest
    neighbours, the pairs the worker will really ask about.
    """
    from decider.models.gradient_boosting import TrainedDecider
    from decider.pairs import labeled_pairs

    rng = np.random.default_rng(seed)
    ids = list(reducer_listings)
    sample = [ids[i] for i in sorted(rng.permutation(len(ids))[:5_000])]
    reducer = PcaReducer.fit(encoder.encode([listing_text(reducer_listings[i]) for i in sample]), dim=dim, source=encoder.version)
    listings = {listing["listing_id"]: listing for listing in catalog.listings}
    vectors = dict(zip(listings, reducer.transform(encoder.encode([listing_text(item) for item in listings.values()]))))
    splits = []
    for clusters in map(set, catalog.split_clusters()):
        members = {i: listings[i] for i in listings if catalog.truth[i] in clusters}
        pairs = [*catalog.pairs(clusters=clusters), *neighbour_pairs(encoder, reducer, members, catalog.truth)]
        splits.append(labeled_pairs(vectors, listings, list({frozenset((p.left_id, p.right_id)): p for p in pairs}.values())))
    (train, train_labels), (valid, valid_labels) = splits
    decider = TrainedDecider.fit(train, train_labels, valid, valid_labels, seed=seed)
    return ModelBundle(encoder=encoder, reducer=reducer, decider=decider)
