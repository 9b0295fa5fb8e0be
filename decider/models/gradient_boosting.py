"""Trained decider: gradient-boosted trees on pair features, calibrated on a held-out split.

Fitting uses three kinds of pairs: ``train`` grows the trees (an internal 15% of it decides when
to stop adding them), ``valid`` calibrates the trees' scores into probabilities and sets the
threshold. Calibration is isotonic or sigmoid, whichever has the lower cross-validated log-loss on
``valid`` (each method is fitted on 4/5 of valid and scored on the rest, so isotonic's flexibility
is not rewarded for memorising the pairs it is judged on).

Saved as ``decider.json`` (the manifest: versions, features, threshold, calibration, the model
file's SHA-256) and ``decider-model.pkl`` (the fitted scikit-learn objects). Loading checks the
manifest before unpickling anything and refuses, with one line, a model from another scikit-learn
minor release, another feature version, or a model file whose hash does not match. The hash catches
corruption and mix-ups, not an attacker who can rewrite both files: a model folder is a trusted
artefact, like the code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import ThreadpoolController

from decider.errors import DeciderError
from decider.features.pair import (
    EXPLANATION_GROUPS,
    FEATURE_VERSION,
    NAN_WHEN_LISTING_MISSING,
    describe,
    feature_names,
    pair_features,
)
from decider.known_products import KnownProducts
from decider.models.threshold import best_f1_threshold
from decider.pairs import CandidatePairs
from infra.files import write_bytes_atomically

KIND = "gradient-boosting"
FORMAT_VERSION = 1
MANIFEST_FILE = "decider.json"
MODEL_FILE = "decider-model.pkl"
CALIBRATION_METHODS = ("isotonic", "sigmoid")
CALIBRATION_FOLDS = 5
# A feature group must move the model's log-odds by at least this much to be named as a reason.
MIN_EXPLAINED_EFFECT = 0.05
MAX_REASONS = 3

logger = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class _Model:
    """The fitted objects and everything else a score or explanation depends on."""

    classifier: HistGradientBoostingClassifier
    calibrated: CalibratedClassifierCV | CalibratedTrees  # anything with predict_proba(features)
    features: tuple[str, ...]
    explanation_baseline: tuple[float, ...]  # per feature: the typical training value (NaN = usually absent)


@dataclass(frozen=True)
class ScoreCalibration:
    """Maps the trees' log-odds to a probability: a 1-d isotonic or sigmoid fit on held-out scores."""

    method: str
    mapping: IsotonicRegression | LogisticRegression

    @classmethod
    def fit(cls, method: str, scores: np.ndarray, labels: np.ndarray) -> "ScoreCalibration":
        if method == "isotonic":
            mapping: IsotonicRegression | LogisticRegression = IsotonicRegression(
                y_min=0.0, y_max=1.0, out_of_bounds="clip"
            ).fit(scores, labels)
        elif method == "sigmoid":
            mapping = LogisticRegression(C=1e6).fit(scores.reshape(-1, 1), labels)
        else:
            raise DeciderError(f"unknown calibration method {method!r}; known: {', '.join(CALIBRATION_METHODS)}")
        return cls(method, mapping)

    def probability(self, scores: np.ndarray) -> np.ndarray:
        if isinstance(self.mapping, IsotonicRegression):
            return np.asarray(self.mapping.predict(scores), dtype=np.float64)
        return self.mapping.predict_proba(scores.reshape(-1, 1))[:, 1]


@dataclass(frozen=True)
class CalibratedTrees:
    """Trees plus a calibration fitted on scores they never saw (see ``fit_cross_validated``)."""

    classifier: HistGradientBoostingClassifier
    calibration: ScoreCalibration

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        positive = self.calibration.probability(self.classifier.decision_function(features))
        return np.column_stack([1.0 - positive, positive])


class TrainedDecider:
    """p(duplicate) from calibrated gradient-boosted trees over :mod:`decider.features`."""

    name = "trained-gradient-boosting"

    def __init__(
        self,
        model: _Model,
        *,
        threshold: float,
        model_bytes: bytes,
        metadata: Mapping[str, Any],
        known: KnownProducts | None = None,
    ) -> None:
        self._model = model
        self.known = known
        self.threshold = float(threshold)
        self._model_bytes = model_bytes
        self.metadata = dict(metadata)
        self.features = model.features
        self._columns = [feature_names().index(name) for name in model.features]
        self.version = _version(
            model_bytes, model.features, self.threshold, model.explanation_baseline, metadata, known
        )

    def __repr__(self) -> str:
        known = f", {self.known!r}" if self.known is not None else ""
        return (
            f"TrainedDecider(version={self.version!r}, threshold={self.threshold:.4f}, {len(self.features)} features"
            f"{known})"
        )

    @property
    def calibration(self) -> str:
        return str(self.metadata["calibration"]["method"])

    # --- fitting ----------------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
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
    ) -> "TrainedDecider":
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
        with _single_threaded():  # a few thousand pairs: threads add overhead, not speed
            classifier = params.classifier(seed).fit(train_x, train_y)
            losses = _calibration_losses(classifier, valid_x, valid_y, seed)
            method = min(losses, key=losses.__getitem__)
            calibrated = CalibratedClassifierCV(FrozenEstimator(classifier), method=method).fit(valid_x, valid_y)
            valid_p = calibrated.predict_proba(valid_x)[:, 1]
        threshold = _threshold(valid_p, valid_y, target_precision)
        model = _Model(classifier, calibrated, tuple(chosen), _typical_values(train_x))
        metadata = _fit_metadata(
            "train, calibrated on valid", {"method": method, "valid_log_loss_cv": losses, "folds": _folds(valid_y)},
            params, seed, classifier, train_y, valid_y, valid_p, threshold, target_precision,
        )
        return cls(model, threshold=threshold, model_bytes=_serialise(model), metadata=metadata, known=known)

    @classmethod
    def fit_cross_validated(
        cls,
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
    ) -> "TrainedDecider":
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
        with _single_threaded():
            for fit_rows, scored_rows in folds:
                fold_trees = params.classifier(seed).fit(
                    np.vstack([train_x, valid_x[fit_rows]]), np.concatenate([train_y, valid_y[fit_rows]])
                )
                valid_scores[scored_rows] = fold_trees.decision_function(valid_x[scored_rows])
            classifier = params.classifier(seed).fit(np.vstack([train_x, valid_x]), np.concatenate([train_y, valid_y]))
        losses = _score_calibration_losses(valid_scores, valid_y, seed)
        method = min(losses, key=losses.__getitem__)
        calibrated = CalibratedTrees(classifier, ScoreCalibration.fit(method, valid_scores, valid_y))
        valid_p = calibrated.calibration.probability(valid_scores)
        threshold = _threshold(valid_p, valid_y, target_precision)
        model = _Model(classifier, calibrated, tuple(chosen), _typical_values(np.vstack([train_x, valid_x])))
        metadata = _fit_metadata(
            "train and valid, calibrated on out-of-fold valid scores",
            {"method": method, "valid_log_loss_cv": losses, "folds": len(folds)},
            params, seed, classifier, train_y, valid_y, valid_p, threshold, target_precision,
        )
        return cls(model, threshold=threshold, model_bytes=_serialise(model), metadata=metadata, known=known)

    # --- scoring ----------------------------------------------------------------------------------

    def score(self, pairs: CandidatePairs) -> np.ndarray:
        if len(pairs) == 0:
            return np.zeros(0, dtype=np.float64)
        features = self._features(pairs)
        with _single_threaded():
            return self._model.calibrated.predict_proba(features)[:, 1].astype(np.float64)

    def explain(self, pairs: CandidatePairs) -> list[str]:
        """The 2-3 feature groups that pushed each pair's score most towards its decision.

        A group's effect is the change in the trees' log-odds when its features are replaced by
        their typical training value (NaN where the feature is usually absent): the model is
        asked "what if this evidence were ordinary?". Groups of correlated features are replaced
        together, or the trees would route around a single removed feature and hide its effect.
        Costs one extra prediction per group per pair, so call it for the pairs you report.
        """
        if len(pairs) == 0:
            return []
        features = self._features(pairs)
        groups = self._explanation_groups()
        with _single_threaded():
            probabilities = self._model.calibrated.predict_proba(features)[:, 1]
            effects = self._group_effects(features, groups)
        reasons = []
        for row in range(len(pairs)):
            duplicate = bool(probabilities[row] >= self.threshold)
            phrases = self._phrases(pairs, row, features[row], groups, effects[:, row], duplicate)
            verdict = "duplicate" if duplicate else "not a duplicate"
            reasons.append(f"{verdict} (p={probabilities[row]:.2f}): {'; '.join(phrases)}")
        return reasons

    def _features(self, pairs: CandidatePairs) -> np.ndarray:
        features = pair_features(pairs, self.known)[:, self._columns]
        self._warn_about_missing_listings(pairs)
        return features

    def _warn_about_missing_listings(self, pairs: CandidatePairs) -> None:
        if NAN_WHEN_LISTING_MISSING.isdisjoint(self.features):
            return
        missing = sum(
            1
            for row in range(len(pairs))
            if row >= len(pairs.query_listings)
            or row >= len(pairs.candidate_listings)
            or pairs.query_listings[row] is None
            or pairs.candidate_listings[row] is None
        )
        if missing:
            logger.warning(
                "%d of %d pairs lack the query or candidate listing fields; %s scores them on text vectors"
                " alone, which it was not trained for: pass query_listings and candidate_listings",
                missing,
                len(pairs),
                self.name,
            )

    def _explanation_groups(self) -> list[tuple[str, list[int]]]:
        position = {name: index for index, name in enumerate(self.features)}
        groups = []
        for lead, members in EXPLANATION_GROUPS.items():
            columns = [position[name] for name in members if name in position]
            if columns:
                groups.append((lead, columns))
        return groups

    def _group_effects(self, features: np.ndarray, groups: Sequence[tuple[str, list[int]]]) -> np.ndarray:
        """(groups, pairs): log-odds with the real values minus log-odds with the group made typical."""
        baseline = np.asarray(self._model.explanation_baseline, dtype=np.float32)
        neutralised = np.repeat(features[None, :, :], len(groups), axis=0)
        for index, (_, columns) in enumerate(groups):
            neutralised[index][:, columns] = baseline[columns]
        classifier = self._model.classifier
        actual = classifier.decision_function(features)
        typical = classifier.decision_function(neutralised.reshape(-1, features.shape[1]))
        return actual[None, :] - typical.reshape(len(groups), -1)

    def _phrases(
        self,
        pairs: CandidatePairs,
        row: int,
        values: np.ndarray,
        groups: Sequence[tuple[str, list[int]]],
        effects: np.ndarray,
        duplicate: bool,
    ) -> list[str]:
        towards_decision = effects if duplicate else -effects
        order = np.argsort(-towards_decision, kind="stable")
        chosen = [i for i in order[:MAX_REASONS] if towards_decision[i] >= MIN_EXPLAINED_EFFECT]
        if not chosen:  # nothing stands out: name the strongest evidence either way
            chosen = [int(np.argmax(np.abs(effects)))]
        query = _listing_or_empty(pairs.query_listings, row)
        candidate = _listing_or_empty(pairs.candidate_listings, row)
        position = {name: index for index, name in enumerate(self.features)}
        phrases = []
        for index in chosen:
            lead = groups[index][0]
            value = float(values[position[lead]]) if lead in position else math.nan
            phrases.append(describe(lead, value, query, candidate))
        return phrases

    # --- persistence ------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write the model file, then the manifest (last, so a complete manifest means a complete save)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        manifest = (json.dumps(self._manifest(), indent=2) + "\n").encode()
        write_bytes_atomically(directory / MODEL_FILE, self._model_bytes)
        if self.known is not None:
            self.known.save(directory)
        write_bytes_atomically(directory / MANIFEST_FILE, manifest)

    def _manifest(self) -> dict[str, Any]:
        return {
            "kind": KIND,
            "format": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "feature_version": FEATURE_VERSION,
            "sklearn_version": sklearn.__version__,
            "features": list(self.features),
            "threshold": self.threshold,
            "explanation_baseline": [_json_float(value) for value in self._model.explanation_baseline],
            "model_file": MODEL_FILE,
            "model_sha256": hashlib.sha256(self._model_bytes).hexdigest(),
            "known_products": _known_summary(self.known),
            **self.metadata,
        }

    @classmethod
    def load(cls, directory: Path) -> "TrainedDecider":
        directory = Path(directory)
        manifest = _read_manifest(directory / MANIFEST_FILE)
        model_bytes = _read_model_bytes(directory, manifest)
        try:
            classifier, calibrated = pickle.loads(model_bytes)  # noqa: S301 - hash-checked, trusted model folder
        except Exception as exc:  # unpickling can fail in many ways; each means "not loadable"
            raise DeciderError(f"{directory / MODEL_FILE} cannot be unpickled: {exc!r}") from None
        baseline = tuple(math.nan if value is None else float(value) for value in manifest["explanation_baseline"])
        model = _Model(classifier, calibrated, tuple(manifest["features"]), baseline)
        metadata = {key: manifest[key] for key in _METADATA_KEYS if key in manifest}
        known_summary = manifest.get("known_products")
        known = KnownProducts.load(directory, known_summary["version"]) if known_summary else None
        decider = cls(
            model, threshold=float(manifest["threshold"]), model_bytes=model_bytes, metadata=metadata, known=known
        )
        if decider.version != manifest["version"]:
            raise DeciderError(
                f"{directory / MANIFEST_FILE}: stored version {manifest['version']} does not match its contents"
                f" ({decider.version})"
            )
        return decider


_REQUIRED_MANIFEST_KEYS = ("version", "features", "threshold", "explanation_baseline", "model_sha256", "calibration")
_METADATA_KEYS = ("calibration", "target_precision", "params", "seed", "iterations", "fitted_on", "valid_at_threshold")


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
    last = int(reaching[-1])
    if last + 1 < len(sorted_p):
        return float((sorted_p[last] + sorted_p[last + 1]) / 2)
    return float(sorted_p[last] / 2)


@cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


def _single_threaded() -> Any:
    """Predict on one OpenMP thread: a micro-batch of pairs gains little from threads, and on a
    worker whose cores the encoder already uses, spinning OpenMP threads slow everything down."""
    return _threadpools().limit(limits=1, user_api="openmp")


# --- fitting helpers ------------------------------------------------------------------------------


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
    # Trees cannot split on a column that is NaN everywhere (scikit-learn rejects it outright).
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


def _score_calibration_losses(scores: np.ndarray, labels: np.ndarray, seed: int) -> dict[str, float]:
    """Mean held-out log-loss of each calibration method fitted on the other folds' scores."""
    folds = StratifiedKFold(n_splits=_folds(labels), shuffle=True, random_state=seed)
    losses: dict[str, float] = {}
    for method in CALIBRATION_METHODS:
        fold_losses = []
        for fit_rows, held_rows in folds.split(scores.reshape(-1, 1), labels):
            calibration = ScoreCalibration.fit(method, scores[fit_rows], labels[fit_rows])
            fold_losses.append(log_loss(labels[held_rows], calibration.probability(scores[held_rows]), labels=[0, 1]))
        losses[method] = float(np.mean(fold_losses))
    return losses


def _check_target_precision(target_precision: float | None) -> None:
    if target_precision is not None and not 0.0 < target_precision <= 1.0:
        raise DeciderError(f"target_precision must be within (0, 1], got {target_precision}")


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


def _scores_at(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    predicted = probabilities >= threshold
    true_positives = int((predicted & (labels == 1)).sum())
    precision = true_positives / predicted.sum() if predicted.any() else 0.0
    recall = true_positives / labels.sum()
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(float(precision), 6), "recall": round(float(recall), 6), "f1": round(float(f1), 6)}


# --- persistence helpers --------------------------------------------------------------------------


def _serialise(model: _Model) -> bytes:
    return pickle.dumps((model.classifier, model.calibrated), protocol=pickle.HIGHEST_PROTOCOL)


def _version(
    model_bytes: bytes,
    features: Sequence[str],
    threshold: float,
    explanation_baseline: Sequence[float],
    metadata: Mapping[str, Any],
    known: KnownProducts | None,
) -> str:
    """FEATURE_VERSION plus a hash of everything that decides a score or a reason."""
    digest = hashlib.sha256(model_bytes)
    decisive = {
        "features": list(features),
        "threshold": round(threshold, 9),
        "calibration": metadata["calibration"]["method"],
        "explanation_baseline": [_json_float(value) for value in explanation_baseline],
        "known_products": known.version if known is not None else None,
    }
    digest.update(json.dumps(decisive, sort_keys=True).encode())
    return f"gbdt-f{FEATURE_VERSION}-{digest.hexdigest()[:12]}"


def _known_summary(known: KnownProducts | None) -> dict[str, Any] | None:
    if known is None:
        return None
    return {"version": known.version, "listings": len(known), "products": len(set(known.product_ids))}


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 9)


def _listing_or_empty(listings: Sequence[Mapping[str, Any] | None], row: int) -> Mapping[str, Any]:
    listing = listings[row] if row < len(listings) else None
    return listing if listing is not None else {}


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeciderError(f"no decider at {path.parent} ({path.name} missing)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeciderError(f"{path} is unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        kind = manifest.get("kind") if isinstance(manifest, dict) else None
        raise DeciderError(f"{path} holds a {kind!r} decider, expected {KIND!r}")
    if manifest.get("format") != FORMAT_VERSION:
        raise DeciderError(f"{path} has format {manifest.get('format')!r}; this release reads {FORMAT_VERSION}")
    _check_compatible(path, manifest)
    missing = [key for key in _REQUIRED_MANIFEST_KEYS if key not in manifest]
    if missing:
        raise DeciderError(f"{path} is incomplete: missing {', '.join(missing)}")
    return manifest


def _check_compatible(path: Path, manifest: Mapping[str, Any]) -> None:
    saved_sklearn = str(manifest.get("sklearn_version", "?"))
    if _major_minor(saved_sklearn) != _major_minor(sklearn.__version__):
        raise DeciderError(
            f"{path} was saved with scikit-learn {saved_sklearn}, this environment has {sklearn.__version__};"
            " install the matching scikit-learn or retrain the decider"
        )
    if manifest.get("feature_version") != FEATURE_VERSION:
        raise DeciderError(
            f"{path} was trained on feature version {manifest.get('feature_version')!r}, this release computes"
            f" version {FEATURE_VERSION!r}; retrain the decider"
        )
    unknown = sorted(set(manifest.get("features", ())) - set(feature_names()))
    if unknown:
        raise DeciderError(f"{path} uses features this release does not compute: {', '.join(unknown)}")


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _read_model_bytes(directory: Path, manifest: Mapping[str, Any]) -> bytes:
    path = directory / MODEL_FILE
    try:
        model_bytes = path.read_bytes()
    except FileNotFoundError:
        raise DeciderError(f"{path} is missing; the saved decider is incomplete") from None
    actual = hashlib.sha256(model_bytes).hexdigest()
    if actual != manifest["model_sha256"]:
        raise DeciderError(
            f"{path} does not match its manifest (sha256 {actual[:12]}…, expected"
            f" {str(manifest['model_sha256'])[:12]}…); the file was changed or belongs to another decider"
        )
    return model_bytes
