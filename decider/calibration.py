"""Scores to probabilities and probabilities to a decision threshold, shared by the deciders and evaluation.

Platt scaling is hand-written (Newton's method on Platt's smoothed targets) rather than
scikit-learn's LogisticRegression: fitted with those targets as sample weights, LogisticRegression
lands within 1e-11 of it but not on the same floats, and the threshold decider saves the floats
(its file would change for the same fit).
"""

from __future__ import annotations

import numpy as np

from decider.errors import DeciderError


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


def fit_platt(scores: np.ndarray, labels: np.ndarray, *, iterations: int = 100) -> tuple[float, float]:
    """One-feature logistic regression by Newton's method, with Platt's smoothed targets."""
    positives = labels.sum()
    negatives = len(labels) - positives
    targets = np.where(labels > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    design = np.column_stack([scores, np.ones_like(scores)])
    weights = np.zeros(2)
    for _ in range(iterations):
        p = sigmoid(design @ weights)
        gradient = design.T @ (p - targets)
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(weights[0]), float(weights[1])


def best_f1_threshold(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The probability cut with the highest duplicate-class F1 (midpoint between neighbours)."""
    order = np.argsort(-probabilities, kind="stable")
    sorted_p = probabilities[order]
    sorted_labels = labels[order]
    true_positives = np.cumsum(sorted_labels)
    predicted = np.arange(1, len(labels) + 1)
    f1 = 2 * true_positives / (predicted + sorted_labels.sum())
    # Only cut between distinct scores: tied pairs must land on the same side.
    distinct = np.append(sorted_p[1:] < sorted_p[:-1], True)
    best = int(np.argmax(np.where(distinct, f1, -1.0)))
    return _cut_below(sorted_p, best)


def lowest_threshold_for_precision(probabilities: np.ndarray, labels: np.ndarray, target: float) -> float:
    """The lowest cut whose precision reaches ``target`` (cutting only between distinct scores)."""
    order = np.argsort(-probabilities, kind="stable")
    sorted_p = probabilities[order]
    precision = np.cumsum(labels[order]) / np.arange(1, len(labels) + 1)
    distinct = np.append(sorted_p[1:] < sorted_p[:-1], True)
    reaching = np.flatnonzero(distinct & (precision >= target))
    if len(reaching) == 0:
        best = float(precision[distinct].max())
        raise DeciderError(
            f"no threshold reaches precision {target:.3f} on the validation pairs (the best is {best:.3f});"
            " lower target_precision or add features/data"
        )
    return _cut_below(sorted_p, int(reaching[-1]))


def _cut_below(sorted_p: np.ndarray, last: int) -> float:
    """A cut that keeps the first ``last + 1`` of the descending ``sorted_p``: midway to the next score."""
    if last + 1 < len(sorted_p):
        return float((sorted_p[last] + sorted_p[last + 1]) / 2)
    return float(sorted_p[last] / 2)
