"""Choosing where the cross-encoder reads: the band of tree probabilities, its calibration and the threshold.

Everything is chosen on valid pairs, on the trees' out-of-fold probabilities, so the trees never
saw the pairs the band is judged on. Choosing among a few hundred band and blend options flatters
the best one (a band of a few dozen pairs can gain 0.006 F1 by luck), so whether the band helps
at all is judged by ``cross_validated_f1``: each fold of valid decided by choices made on the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from decider.calibration import best_f1_threshold, fit_platt, lowest_threshold_for_precision
from decider.errors import DeciderError
from decider.evaluation.metrics import pair_metrics
from decider.models.banded import Band, BandCalibration

CROSS_VALIDATION_FOLDS = 5

# Band ends tried on valid; the cross-encoder scores only the valid pairs inside the widest band.
BAND_POINTS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)
BLEND_WEIGHTS = (1.0, 0.75, 0.5)  # weight of the cross-encoder's probability inside the band


@dataclass(frozen=True)
class BandChoice:
    band: Band
    calibration: BandCalibration
    threshold: float
    valid: dict[str, Any]  # precision, recall, f1 ... at the threshold, over the pairs it was chosen on
    share: float  # of those pairs, the ones the cross-encoder read

    def probabilities(self, tree_p: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """The banded decider's probabilities; ``logits`` is NaN where the cross-encoder did not read the pair."""
        rows = np.flatnonzero(self.band.contains(tree_p) & ~np.isnan(logits))
        probabilities = tree_p.astype(np.float64)
        probabilities[rows] = self.calibration.probability(logits[rows], tree_p[rows])
        return probabilities


def choose_band(
    tree_p: np.ndarray,
    logits: np.ndarray,
    labels: np.ndarray,
    target_precision: float | None = None,
    weights: tuple[float, ...] = BLEND_WEIGHTS,
) -> BandChoice | None:
    """The band, calibration, blend and threshold with the best F1 on these pairs (ties: the narrower band).

    ``tree_p`` are out-of-fold tree probabilities, ``logits`` the cross-encoder's (NaN where it did not
    read the pair: those keep the tree probability, as in the stream).
    """
    best: tuple[tuple[float, float], BandChoice] | None = None
    for low, high in ((low, high) for low in BAND_POINTS for high in BAND_POINTS if low < high):
        for choice in _band_options(Band(low, high), tree_p, logits, labels, target_precision, weights):
            key = (round(choice.valid["f1"], 4), -choice.share)
            if best is None or key > best[0]:
                best = (key, choice)
    return best[1] if best else None


def cross_validated_f1(
    tree_p: np.ndarray, logits: np.ndarray, labels: np.ndarray, target_precision: float | None, seed: int
) -> dict[str, float]:
    """F1 of the trees alone and of the banded decider, each fold decided by choices made on the other folds.

    The trees' threshold is chosen the same way, so the two figures pay the same price for choosing.
    """
    trees, banded = np.zeros(len(labels), dtype=bool), np.zeros(len(labels), dtype=bool)
    folds = StratifiedKFold(_folds(labels), shuffle=True, random_state=seed)
    for fit, held in folds.split(tree_p.reshape(-1, 1), labels):
        trees[held] = tree_p[held] >= _threshold_or_none(tree_p[fit], labels[fit], target_precision)
        choice = choose_band(tree_p[fit], logits[fit], labels[fit], target_precision)
        if choice is None:
            banded[held] = trees[held]
        else:
            banded[held] = choice.probabilities(tree_p[held], logits[held]) >= choice.threshold
    return {"trees": _f1(trees, labels), "banded": _f1(banded, labels)}


def _band_options(
    band: Band,
    tree_p: np.ndarray,
    logits: np.ndarray,
    labels: np.ndarray,
    target_precision: float | None,
    weights: tuple[float, ...],
) -> Iterator[BandChoice]:
    rows = np.flatnonzero(band.contains(tree_p) & ~np.isnan(logits))
    duplicates = int(labels[rows].sum())
    if min(duplicates, len(rows) - duplicates) < 2:
        return  # nothing to calibrate on
    slope, intercept = fit_platt(logits[rows], labels[rows].astype(np.float64))
    for weight in weights:
        calibration = BandCalibration(slope, intercept, weight)
        probabilities = tree_p.astype(np.float64)
        probabilities[rows] = calibration.probability(logits[rows], tree_p[rows])
        try:
            threshold = _threshold(probabilities, labels, target_precision)
        except DeciderError:
            continue  # this band cannot reach the target precision
        valid = pair_metrics(probabilities, labels, threshold).as_dict()
        yield BandChoice(band, calibration, threshold, valid, len(rows) / len(tree_p))


def _threshold(probabilities: np.ndarray, labels: np.ndarray, target_precision: float | None) -> float:
    if target_precision is None:
        return best_f1_threshold(probabilities, labels)
    return lowest_threshold_for_precision(probabilities, labels, target_precision)


def _threshold_or_none(probabilities: np.ndarray, labels: np.ndarray, target_precision: float | None) -> float:
    """The threshold, or one above every probability where the target precision is out of reach."""
    try:
        return _threshold(probabilities, labels, target_precision)
    except DeciderError:
        return np.inf


def _folds(labels: np.ndarray) -> int:
    return int(min(CROSS_VALIDATION_FOLDS, labels.sum(), len(labels) - labels.sum()))


def _f1(decided: np.ndarray, labels: np.ndarray) -> float:
    return round(pair_metrics(decided.astype(np.float64), labels, 0.5).f1, 6)
