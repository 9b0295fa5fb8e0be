"""Scoring labeled pairs the way the worker does, metrics the paper reports, plots, baselines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from decider.bundle import ModelBundle
from decider.datasets.labeled import Dataset, LabeledPair
from decider.models.threshold import best_f1_threshold
from decider.pairs import labeled_pairs
from encoders.listing import listing_text


@dataclass(frozen=True)
class PairMetrics:
    precision: float
    recall: float
    f1: float
    macro_f1: float
    threshold: float
    pairs: int
    positives: int
    true_positives: int
    false_positives: int
    false_negatives: int

    def as_dict(self) -> dict[str, Any]:
        rounded = {key: round(value, 4) if isinstance(value, float) else value for key, value in asdict(self).items()}
        rounded["threshold"] = round(self.threshold, 6)  # to reproduce decisions, not just to read
        return rounded


def pair_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float) -> PairMetrics:
    """Duplicate-class precision/recall/F1 and macro F1 (mean of both classes' F1, the paper's metric)."""
    predicted = np.asarray(scores) >= threshold
    actual = np.asarray(labels).astype(bool)
    tp = int((predicted & actual).sum())
    fp = int((predicted & ~actual).sum())
    fn = int((~predicted & actual).sum())
    tn = int((~predicted & ~actual).sum())
    f1_duplicate = _f1(tp, fp, fn)
    f1_distinct = _f1(tn, fn, fp)
    return PairMetrics(
        precision=tp / (tp + fp) if tp + fp else 0.0,
        recall=tp / (tp + fn) if tp + fn else 0.0,
        f1=f1_duplicate,
        macro_f1=(f1_duplicate + f1_distinct) / 2,
        threshold=float(threshold),
        pairs=len(actual),
        positives=int(actual.sum()),
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
    )


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def embed_listings(model: ModelBundle, listings: Mapping[str, Mapping[str, Any]], ids: Sequence[str]) -> dict[str, np.ndarray]:
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


def write_plots(scores: np.ndarray, labels: np.ndarray, threshold: float, directory: Path, prefix: str) -> list[Path]:
    """A precision-recall curve and a score histogram per class, as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    precision, recall = precision_recall_curve(scores, labels)
    chosen = pair_metrics(scores, labels, threshold)
    figure, axes = plt.subplots(figsize=(5, 4))
    axes.plot(recall, precision, label="decider")
    axes.scatter([chosen.recall], [chosen.precision], color="red", zorder=3, label=f"threshold {threshold:.3f}")
    axes.set(xlabel="recall", ylabel="precision", title=f"{prefix}: precision-recall", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower left")
    curve_path = directory / f"{prefix}-precision-recall.png"
    figure.savefig(curve_path, dpi=110, bbox_inches="tight")
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(5, 4))
    bins = np.linspace(0, 1, 41)
    axes.hist(scores[labels == 0], bins=bins, alpha=0.6, label="different products", log=True)
    axes.hist(scores[labels == 1], bins=bins, alpha=0.6, label="duplicates", log=True)
    axes.axvline(threshold, color="red", linestyle="--", label="threshold")
    axes.set(xlabel="decider score", ylabel="pairs (log)", title=f"{prefix}: score histogram")
    axes.legend()
    histogram_path = directory / f"{prefix}-score-histogram.png"
    figure.savefig(histogram_path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return [curve_path, histogram_path]


def recall_at_k(vectors: np.ndarray, partners: Mapping[int, set[int]], ks: Sequence[int]) -> dict[int, float]:
    """Share of (row, partner) duplicates where the partner is among the row's k nearest other rows.

    ``vectors`` are unit rows (exact search by dot product); ``partners`` maps a query row to the
    rows of its known duplicates. Rows that are never queries still compete as neighbours.
    """
    queries = sorted(partners)
    total = sum(len(partners[row]) for row in queries)
    if not queries or total == 0:
        return {k: 0.0 for k in ks}
    similarities = vectors[queries] @ vectors.T
    similarities[np.arange(len(queries)), queries] = -np.inf  # a listing is not its own neighbour
    ranked = np.argsort(-similarities, axis=1)[:, : max(ks)]
    found = dict.fromkeys(ks, 0)
    for position, row in enumerate(queries):
        for k in ks:
            found[k] += len(partners[row] & set(ranked[position, :k].tolist()))
    return {k: round(found[k] / total, 4) for k in ks}


def precision_recall_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(labels[order])
    predicted = np.arange(1, len(scores) + 1)
    return hits / predicted, hits / max(int(labels.sum()), 1)


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
