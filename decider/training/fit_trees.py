"""Fitting a gradient-boosting decider on labeled pairs (offline; the worker only loads the result).

Fitting uses two sets of pairs: ``train`` grows the trees (an internal 15% of it decides when to
stop adding them), ``valid`` calibrates the trees' scores into probabilities and sets the
threshold. Calibration is isotonic or sigmoid, whichever has the lower cross-validated log-loss on
``valid`` (each method is fitted on 4/5 of valid and scored on the rest, so isotonic's flexibility
is not rewarded for memorising the pairs it is judged on).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

from decider.calibration import best_f1_threshold, lowest_threshold_for_precision
from decider.errors import DeciderError
from decider.features.pair import feature_names, pair_features
from decider.known_products import KnownProducts
from decider.models.gradient_boosting import (
    CalibratedTrees,
    GradientBoostingDecider,
    ScoreCalibration,
    TreeModel,
    single_threaded,
)
from decider.models.gradient_boosting_files import model_file_bytes
from decider.pairs import CandidatePairs

CALIBRATION_METHODS = ("isotonic", "sigmoid")
CALIBRATION_FOLDS = 5
# Each cross-validated fit's calibrated out-of-fold valid probabilities, in valid's order: what a later
# step chooses on (decider.training.cross_encoder). Kept beside the decider while it lives, never saved.
_OUT_OF_FOLD: WeakKeyDictionary[GradientBoostingDecider, np.ndarray] = WeakKeyDictionary()


@dataclass(frozen=True)
class BoostingParams:
    """HistGradientBoostingClassifier settings for a few thousand pairs: shallow trees, slow learning,
    early stopping on an internal split of the training pairs."""

    learning_rate: float = 0.05
    max_iter: int = 500
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 20
    l2_regularization: float = 1.0
    validation_fraction: float = 0.15
    n_iter_no_change: int = 30

    def classifier(self, seed: int) -> HistGradientBoostingClassifier:
        return HistGradientBoostingClassifier(**asdict(self), early_stopping=True, random_state=seed)


def fit_decider(
    train: CandidatePairs,
    train_labels: np.ndarray,
    valid: CandidatePairs,
    valid_labels: np.ndarray,
    *,
    target_precision: float | None = None,
    seed: int = 0,
    features: Sequence[str] | None = None,
    params: BoostingParams | None = None,
    known: KnownProducts | None = None,
) -> GradientBoostingDecider:
    """Grow trees on ``train``, calibrate and pick the threshold on ``valid``.

    The threshold is the best duplicate-class F1 on ``valid``, or with ``target_precision``
    the lowest one whose precision on ``valid`` reaches it (most recall at that precision).
    ``features`` restricts the model to some of ``feature_names()``; features that are NaN on
    every training pair (e.g. image similarity without images) are left out. ``known`` adds the
    known-product features (:mod:`decider.known_products`) and travels with the decider.
    """
    params = params or BoostingParams()
    train_y = _check_labels("train", train, train_labels)
    valid_y = _check_labels("valid", valid, valid_labels)
    _check_target_precision(target_precision)
    all_train = pair_features(train, known)
    chosen = _chosen_features(features, params.min_samples_leaf, all_train)
    columns = [feature_names().index(name) for name in chosen]
    train_x, valid_x = all_train[:, columns], pair_features(valid, known)[:, columns]
    with single_threaded():  # a few thousand pairs: threads add overhead, not speed
        classifier = params.classifier(seed).fit(train_x, train_y)
        losses = _calibration_losses(classifier, valid_x, valid_y, seed)
        method = min(losses, key=losses.__getitem__)
        calibrated = CalibratedClassifierCV(FrozenEstimator(classifier), method=method).fit(valid_x, valid_y)
        valid_p = calibrated.predict_proba(valid_x)[:, 1]
    threshold = _threshold(valid_p, valid_y, target_precision)
    model = TreeModel(classifier, calibrated, tuple(chosen), _typical_values(train_x))
    metadata = _fit_metadata(
        "train, calibrated on valid", {"method": method, "valid_log_loss_cv": losses, "folds": _folds(valid_y)},
        params, seed, classifier, train_y, valid_y, valid_p, threshold, target_precision,
    )
    return _decider(model, threshold, metadata, known)


def fit_decider_cross_validated(
    train: CandidatePairs | None,
    train_labels: np.ndarray | None,
    valid: CandidatePairs,
    valid_labels: np.ndarray,
    *,
    target_precision: float | None = None,
    seed: int = 0,
    features: Sequence[str] | None = None,
    params: BoostingParams | None = None,
    known: KnownProducts | None = None,
) -> GradientBoostingDecider:
    """Grow trees on ``train`` and ``valid`` together; calibrate and threshold on valid scores no tree saw.

    ``valid`` is cut into stratified folds and each fold is scored by trees grown on ``train``
    plus the other folds, so every valid pair gets an honest score. Calibration (isotonic or
    sigmoid, by cross-validated log-loss on those scores) and the threshold come from them; the
    saved trees are grown on every pair. Pass ``train=None`` when the train pairs would mislead
    the trees, as with an encoder fine-tuned on them (their vectors are memorised, not typical).
    """
    params = params or BoostingParams()
    valid_y = _check_labels("valid", valid, valid_labels)
    _check_target_precision(target_precision)
    valid_all = pair_features(valid, known)
    if train is None or train_labels is None:
        train_all, train_y = np.zeros((0, valid_all.shape[1]), dtype=np.float32), np.zeros(0, dtype=np.int64)
    else:
        train_y = _check_labels("train", train, train_labels)
        train_all = pair_features(train, known)
    folds = list(StratifiedKFold(_folds(valid_y), shuffle=True, random_state=seed).split(valid_all, valid_y))
    fold_inputs = [np.vstack([train_all, valid_all[fit_rows]]) for fit_rows, _ in folds]
    chosen = _chosen_features(features, params.min_samples_leaf, *fold_inputs)
    columns = [feature_names().index(name) for name in chosen]
    train_x, valid_x = train_all[:, columns], valid_all[:, columns]
    valid_scores = np.zeros(len(valid_y))
    with single_threaded():
        for fit_rows, scored_rows in folds:
            fold_trees = params.classifier(seed).fit(
                np.vstack([train_x, valid_x[fit_rows]]), np.concatenate([train_y, valid_y[fit_rows]])
            )
            valid_scores[scored_rows] = fold_trees.decision_function(valid_x[scored_rows])
        classifier = params.classifier(seed).fit(np.vstack([train_x, valid_x]), np.concatenate([train_y, valid_y]))
    losses = _score_calibration_losses(valid_scores, valid_y, seed)
    method = min(losses, key=losses.__getitem__)
    calibrated = CalibratedTrees(classifier, fit_score_calibration(method, valid_scores, valid_y))
    valid_p = calibrated.calibration.probability(valid_scores)
    threshold = _threshold(valid_p, valid_y, target_precision)
    model = TreeModel(classifier, calibrated, tuple(chosen), _typical_values(np.vstack([train_x, valid_x])))
    metadata = _fit_metadata(
        "train and valid, calibrated on out-of-fold valid scores",
        {"method": method, "valid_log_loss_cv": losses, "folds": len(folds)},
        params, seed, classifier, train_y, valid_y, valid_p, threshold, target_precision,
    )
    decider = _decider(model, threshold, metadata, known)
    _OUT_OF_FOLD[decider] = valid_p
    return decider


def out_of_fold_probabilities(decider: GradientBoostingDecider) -> np.ndarray | None:
    """The valid probabilities ``fit_decider_cross_validated`` chose ``decider``'s threshold on, if it fitted it."""
    return _OUT_OF_FOLD.get(decider)


def fit_score_calibration(method: str, scores: np.ndarray, labels: np.ndarray) -> ScoreCalibration:
    """A 1-d isotonic or sigmoid map from the trees' log-odds ``scores`` to p(duplicate)."""
    if method == "isotonic":
        mapping: IsotonicRegression | LogisticRegression = IsotonicRegression(
            y_min=0.0, y_max=1.0, out_of_bounds="clip"
        ).fit(scores, labels)
    elif method == "sigmoid":
        mapping = LogisticRegression(C=1e6).fit(scores.reshape(-1, 1), labels)
    else:
        raise DeciderError(f"unknown calibration method {method!r}; known: {', '.join(CALIBRATION_METHODS)}")
    return ScoreCalibration(method, mapping)


def _decider(
    model: TreeModel, threshold: float, metadata: dict[str, Any], known: KnownProducts | None
) -> GradientBoostingDecider:
    model_bytes = model_file_bytes(model.classifier, model.calibrated)
    return GradientBoostingDecider(model, threshold=threshold, model_bytes=model_bytes, metadata=metadata, known=known)


def _check_labels(split: str, pairs: CandidatePairs, labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (len(pairs),):
        raise DeciderError(f"{split}: {len(pairs)} pairs but labels of shape {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise DeciderError(f"{split}: labels must be 0 or 1")
    labels = labels.astype(np.int64)
    if min(labels.sum(), len(labels) - labels.sum()) < 2:
        raise DeciderError(
            f"{split}: need at least 2 duplicate and 2 non-duplicate pairs, got {int(labels.sum())} duplicates"
            f" of {len(labels)}"
        )
    return labels


def _check_target_precision(target_precision: float | None) -> None:
    if target_precision is not None and not 0.0 < target_precision <= 1.0:
        raise DeciderError(f"target_precision must be within (0, 1], got {target_precision}")


def _chosen_features(requested: Sequence[str] | None, min_present: int, *train_features: np.ndarray) -> list[str]:
    """The requested features present on at least ``min_present`` pairs of every training set (one per fold).

    Rarer ones cannot fill a leaf of ``min_samples_leaf`` pairs, and a column that is NaN on every
    row the trees bin (scikit-learn sets 15% aside first for early stopping) is rejected outright.
    """
    names = feature_names()
    chosen = list(requested) if requested is not None else names
    unknown = [name for name in chosen if name not in names]
    if unknown:
        raise DeciderError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(names)}")
    usable = [
        name
        for name in chosen
        if all(np.count_nonzero(~np.isnan(rows[:, names.index(name)])) >= min_present for rows in train_features)
    ]
    if not usable:
        raise DeciderError(f"every requested feature is missing on (nearly) all training pairs: {', '.join(chosen)}")
    return usable


def _folds(labels: np.ndarray) -> int:
    return int(min(CALIBRATION_FOLDS, labels.sum(), len(labels) - labels.sum()))


def _calibration_losses(
    classifier: HistGradientBoostingClassifier, features: np.ndarray, labels: np.ndarray, seed: int
) -> dict[str, float]:
    """Mean held-out log-loss of each calibration method over stratified folds of ``valid``."""
    folds = StratifiedKFold(n_splits=_folds(labels), shuffle=True, random_state=seed)
    losses: dict[str, float] = {}
    for method in CALIBRATION_METHODS:
        fold_losses = []
        for fit_rows, held_rows in folds.split(features, labels):
            calibrated = CalibratedClassifierCV(FrozenEstimator(classifier), method=method)
            calibrated.fit(features[fit_rows], labels[fit_rows])
            held_p = calibrated.predict_proba(features[held_rows])[:, 1]
            fold_losses.append(log_loss(labels[held_rows], held_p, labels=[0, 1]))
        losses[method] = float(np.mean(fold_losses))
    return losses


def _score_calibration_losses(scores: np.ndarray, labels: np.ndarray, seed: int) -> dict[str, float]:
    """Mean held-out log-loss of each calibration method fitted on the other folds' scores."""
    folds = StratifiedKFold(n_splits=_folds(labels), shuffle=True, random_state=seed)
    losses: dict[str, float] = {}
    for method in CALIBRATION_METHODS:
        fold_losses = []
        for fit_rows, held_rows in folds.split(scores.reshape(-1, 1), labels):
            calibration = fit_score_calibration(method, scores[fit_rows], labels[fit_rows])
            fold_losses.append(log_loss(labels[held_rows], calibration.probability(scores[held_rows]), labels=[0, 1]))
        losses[method] = float(np.mean(fold_losses))
    return losses


def _threshold(probabilities: np.ndarray, labels: np.ndarray, target_precision: float | None) -> float:
    if target_precision is None:
        return best_f1_threshold(probabilities, labels)
    return lowest_threshold_for_precision(probabilities, labels, target_precision)


def _typical_values(features: np.ndarray) -> tuple[float, ...]:
    """Per column: NaN when most training pairs lack it, else the median of the present values."""
    typical = []
    for column in features.T:
        present = column[~np.isnan(column)]
        typical.append(float(np.median(present)) if len(present) * 2 > len(column) else math.nan)
    return tuple(typical)


def _fit_metadata(
    scheme: str,
    calibration: dict[str, Any],
    params: BoostingParams,
    seed: int,
    classifier: HistGradientBoostingClassifier,
    train_y: np.ndarray,
    valid_y: np.ndarray,
    valid_p: np.ndarray,
    threshold: float,
    target_precision: float | None,
) -> dict[str, Any]:
    """What a fit records in the manifest; ``valid_p`` are the probabilities the threshold was chosen on."""
    return {
        "calibration": calibration,
        "target_precision": target_precision,
        "params": asdict(params),
        "seed": seed,
        "iterations": int(classifier.n_iter_),
        "fitted_on": {
            "scheme": scheme,
            "train_pairs": len(train_y),
            "train_duplicates": int(train_y.sum()),
            "valid_pairs": len(valid_y),
            "valid_duplicates": int(valid_y.sum()),
        },
        "valid_at_threshold": _scores_at(valid_p, valid_y, threshold),
    }


def _scores_at(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = probabilities >= threshold
    true_positives = int((predicted & (labels == 1)).sum())
    precision = true_positives / predicted.sum() if predicted.any() else 0.0
    recall = true_positives / labels.sum()
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(float(precision), 6), "recall": round(float(recall), 6), "f1": round(float(f1), 6)}
