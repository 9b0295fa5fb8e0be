"""Reference scores to compare a model against: character TF-IDF cosine and the raw encoder's cosine.

Each has its threshold tuned on the valid split and is measured on the test split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from decider.bundle import ModelBundle
from decider.calibration import best_f1_threshold
from decider.datasets.labeled import Dataset, LabeledPair
from decider.evaluation.metrics import PairMetrics, pair_metrics
from encoders.listing import listing_text


def tfidf_baseline(dataset: Dataset, valid_split: str, test_split: str) -> PairMetrics:
    """Character 2-4-gram TF-IDF cosine, threshold tuned on the valid split."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids = list(dataset.listings)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    matrix = vectorizer.fit_transform([listing_text(dataset.listings[i]) for i in ids])
    row = {listing_id: index for index, listing_id in enumerate(ids)}

    def similarities(pairs: Sequence[LabeledPair]) -> tuple[np.ndarray, np.ndarray]:
        left = matrix[[row[p.left_id] for p in pairs]]
        right = matrix[[row[p.right_id] for p in pairs]]
        return np.asarray(left.multiply(right).sum(axis=1)).ravel(), np.array([p.label for p in pairs])

    return _tuned(similarities(dataset.pairs(valid_split)), similarities(dataset.pairs(test_split)))


def raw_cosine_baseline(model: ModelBundle, dataset: Dataset, valid_split: str, test_split: str) -> PairMetrics:
    """Cosine of the full-width encoder embeddings (before reduction), threshold tuned on valid."""

    def similarities(pairs: Sequence[LabeledPair]) -> tuple[np.ndarray, np.ndarray]:
        ids = list(dict.fromkeys([p.left_id for p in pairs] + [p.right_id for p in pairs]))
        vectors = dict(zip(ids, model.encoder.encode([listing_text(dataset.listings[i]) for i in ids])))
        sims = np.array([float(vectors[p.left_id] @ vectors[p.right_id]) for p in pairs])
        return sims, np.array([p.label for p in pairs])

    return _tuned(similarities(dataset.pairs(valid_split)), similarities(dataset.pairs(test_split)))


def _tuned(valid: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]) -> PairMetrics:
    threshold = best_f1_threshold(valid[0].astype(np.float64), valid[1].astype(np.float64))
    return pair_metrics(test[0], test[1], threshold)
