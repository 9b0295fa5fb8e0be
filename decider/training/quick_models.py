"""The demo's quick model folders: the base encoder, a reducer, and a decider fitted in seconds (no fine-tuning).

``fit_baseline_bundle`` calibrates the threshold decider on labeled pairs; ``fit_trained_bundle``
grows the gradient-boosting decider on a generated catalog. ``dedup train``
(:mod:`decider.training.job`) is the full recipe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from decider.bundle import ModelBundle
from decider.datasets.candidate_pairs import labeled_pairs
from decider.datasets.labeled import LabeledPair
from decider.models.threshold import ThresholdDecider
from decider.training.fit_trees import fit_decider
from decider.training.mining import neighbour_pairs
from encoders.listing import listing_text
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder

if TYPE_CHECKING:
    from encoders.images.encoder import ImageEncoder

REDUCER_SAMPLE = 5_000


def fit_baseline_bundle(
    encoder: TextEncoder,
    listings: Mapping[str, Mapping[str, Any]],
    pairs: Sequence[LabeledPair],
    *,
    dim: int = 128,
    clusters: Mapping[str, str] | None = None,
    reducer_sample: int = REDUCER_SAMPLE,
    seed: int = 0,
) -> ModelBundle:
    """Fit the reducer on up to ``reducer_sample`` listings, then calibrate the threshold decider.

    With ``clusters`` (listing_id -> product id) the decider is also calibrated on each
    listing's nearest neighbours, the pairs it will actually be asked about.
    """
    reducer = fit_reducer_on_sample(encoder, listings, dim=dim, sample_size=reducer_sample, seed=seed)
    if clusters is not None:
        pairs = [*pairs, *neighbour_pairs(encoder, reducer, listings, clusters)]
    decider = calibrate_threshold(encoder, reducer, listings, pairs)
    return ModelBundle(encoder=encoder, reducer=reducer, decider=decider)


def fit_trained_bundle(
    encoder: TextEncoder,
    reducer_listings: Mapping[str, Mapping[str, Any]],
    catalog: Any,
    *,
    dim: int = 128,
    seed: int = 0,
    photo_vectors: Mapping[str, np.ndarray] | None = None,
    images: "ImageEncoder | None" = None,
) -> ModelBundle:
    """A gradient-boosting decider grown on a generated catalog (no fine-tuning): what the demo uses.

    Train and valid pairs come from disjoint product families of ``catalog`` (a
    :class:`decider.synthetic.catalog.SyntheticCatalog`): its labeled pairs plus each listing's nearest
    neighbours, the pairs the worker will really ask about. ``photo_vectors`` (from ``images``) give the
    pairs' photo similarity; photo hashes come with the listings (``image_phash``).
    """
    reducer = fit_reducer_on_sample(encoder, reducer_listings, dim=dim, sample_size=REDUCER_SAMPLE, seed=seed)
    listings = {listing["listing_id"]: listing for listing in catalog.listings}
    vectors = dict(zip(listings, reducer.transform(encoder.encode([listing_text(item) for item in listings.values()]))))
    splits = []
    for clusters in map(set, catalog.split_clusters()):
        members = {i: listings[i] for i in listings if catalog.truth[i] in clusters}
        pairs = [*catalog.pairs(clusters=clusters), *neighbour_pairs(encoder, reducer, members, catalog.truth)]
        unique = list({pair.key(): pair for pair in pairs}.values())
        splits.append(labeled_pairs(vectors, listings, unique, photo_vectors))
    (train, train_labels), (valid, valid_labels) = splits
    decider = fit_decider(train, train_labels, valid, valid_labels, seed=seed)
    return ModelBundle(encoder=encoder, reducer=reducer, decider=decider, images=images)


def fit_reducer_on_sample(
    encoder: TextEncoder, listings: Mapping[str, Mapping[str, Any]], *, dim: int, sample_size: int, seed: int
) -> PcaReducer:
    """PCA fitted on up to ``sample_size`` listings drawn with ``seed`` (kept in file order)."""
    rng = np.random.default_rng(seed)
    ids = list(listings)
    sample = [ids[i] for i in sorted(rng.permutation(len(ids))[:sample_size])]
    vectors = encoder.encode([listing_text(listings[i]) for i in sample])
    return PcaReducer.fit(vectors, dim=dim, source=encoder.version)


def calibrate_threshold(
    encoder: TextEncoder,
    reducer: PcaReducer,
    listings: Mapping[str, Mapping[str, Any]],
    pairs: Sequence[LabeledPair],
) -> ThresholdDecider:
    """The threshold decider fitted on the reduced-vector cosine of ``pairs``."""
    pair_ids = sorted({pair.left_id for pair in pairs} | {pair.right_id for pair in pairs})
    reduced = reducer.transform(encoder.encode([listing_text(listings[i]) for i in pair_ids]))
    row = {listing_id: index for index, listing_id in enumerate(pair_ids)}
    left = reduced[[row[pair.left_id] for pair in pairs]]
    right = reduced[[row[pair.right_id] for pair in pairs]]
    similarities = np.einsum("ij,ij->i", left, right)
    labels = np.array([pair.label for pair in pairs])
    return ThresholdDecider.fit(similarities, labels)
