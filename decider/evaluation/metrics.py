"""Quality figures: pair precision/recall/F1 at a threshold (and macro F1, the paper's metric),
the precision-recall curve, recall@k of an exact vector search, and found duplicate pairs scored
against the true ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


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
    """Precision and recall at every cut-off, taking the highest-scored pairs first."""
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(labels[order])
    predicted = np.arange(1, len(scores) + 1)
    return hits / predicted, hits / max(int(labels.sum()), 1)


def pairwise_scores(found: Iterable[frozenset[str]], truth: set[frozenset[str]]) -> dict[str, float | int]:
    """Precision, recall and F1 of found duplicate pairs against the true ones.

    Pairs are unordered and counted once. A ratio whose denominator is zero is 0.0 (nothing
    found means precision 0, as in scikit-learn's ``zero_division=0``).
    """
    found_pairs = {_as_pair(pair) for pair in found}
    true_pairs = {_as_pair(pair) for pair in truth}
    true_positives = len(found_pairs & true_pairs)
    false_positives = len(found_pairs) - true_positives
    false_negatives = len(true_pairs) - true_positives
    precision = _ratio(true_positives, len(found_pairs))
    recall = _ratio(true_positives, len(true_pairs))
    return {
        "precision": precision,
        "recall": recall,
        "f1": _ratio(2 * precision * recall, precision + recall),
        "true_positives": true_positives,
        "false_positives": false_positives,
        "false_negatives": false_negatives,
    }


def _as_pair(pair: Iterable[str]) -> frozenset[str]:
    members = frozenset(pair)
    if len(members) != 2:
        raise ValueError(f"a pair needs two distinct listing ids, got {sorted(members)}")
    return members


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0
