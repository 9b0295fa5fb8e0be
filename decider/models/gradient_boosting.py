"""The gradient-boosting decider as the worker uses it: calibrated trees over the pair features.

It scores pairs and explains its decisions; fitting is offline (``decider.training.fit_trees``)
and the saved files are read and written by ``decider.models.gradient_boosting_files``.

``ScoreCalibration`` and ``CalibratedTrees`` are pickled into the model file under this module's
name: moving or renaming them would change the file, hence its hash and the decider version, and
stop saved deciders from loading.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from threadpoolctl import ThreadpoolController

from decider.features.explain import EXPLANATION_GROUPS, describe
from decider.features.pair import NAN_WHEN_LISTING_MISSING, feature_names, pair_features
from decider.known_products import KnownProducts
from decider.models.gradient_boosting_files import decider_version, read_decider_files, write_decider_files
from decider.pairs import CandidatePairs

# A feature group must move the model's log-odds by at least this much to be named as a reason.
MIN_EXPLAINED_EFFECT = 0.05
MAX_REASONS = 3

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreCalibration:
    """Maps the trees' log-odds to a probability: a 1-d isotonic or sigmoid fit on held-out scores."""

    method: str
    mapping: IsotonicRegression | LogisticRegression

    def probability(self, scores: np.ndarray) -> np.ndarray:
        if isinstance(self.mapping, IsotonicRegression):
            return np.asarray(self.mapping.predict(scores), dtype=np.float64)
        return self.mapping.predict_proba(scores.reshape(-1, 1))[:, 1]


@dataclass(frozen=True)
class CalibratedTrees:
    """Trees plus a calibration fitted on scores they never saw (see ``fit_decider_cross_validated``)."""

    classifier: HistGradientBoostingClassifier
    calibration: ScoreCalibration

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        positive = self.calibration.probability(self.classifier.decision_function(features))
        return np.column_stack([1.0 - positive, positive])


@dataclass(frozen=True)
class TreeModel:
    """The fitted objects and everything else a score or explanation depends on."""

    classifier: HistGradientBoostingClassifier
    calibrated: CalibratedClassifierCV | CalibratedTrees  # anything with predict_proba(features)
    features: tuple[str, ...]
    explanation_baseline: tuple[float, ...]  # per feature: the typical training value (NaN = usually absent)


class GradientBoostingDecider:
    """p(duplicate) from calibrated gradient-boosted trees over :mod:`decider.features`."""

    name = "trained-gradient-boosting"

    def __init__(
        self,
        model: TreeModel,
        *,
        threshold: float,
        model_bytes: bytes,
        metadata: Mapping[str, Any],
        known: KnownProducts | None = None,
    ) -> None:
        self.model = model
        self.known = known
        self.threshold = float(threshold)
        self.model_bytes = model_bytes  # the pickled classifier and calibration, as saved
        self.metadata = dict(metadata)
        self.features = model.features
        self._columns = [feature_names().index(name) for name in model.features]
        self.version = decider_version(
            model_bytes, model.features, self.threshold, model.explanation_baseline, metadata, known
        )

    def __repr__(self) -> str:
        known = f", {self.known!r}" if self.known is not None else ""
        return (
            f"GradientBoostingDecider(version={self.version!r}, threshold={self.threshold:.4f},"
            f" {len(self.features)} features{known})"
        )

    @property
    def calibration(self) -> str:
        return str(self.metadata["calibration"]["method"])

    # --- scoring ----------------------------------------------------------------------------------

    def score(self, pairs: CandidatePairs) -> np.ndarray:
        if len(pairs) == 0:
            return np.zeros(0, dtype=np.float64)
        features = self._features(pairs)
        with single_threaded():
            return self.model.calibrated.predict_proba(features)[:, 1].astype(np.float64)

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
        with single_threaded():
            probabilities = self.model.calibrated.predict_proba(features)[:, 1]
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
        baseline = np.asarray(self.model.explanation_baseline, dtype=np.float32)
        neutralised = np.repeat(features[None, :, :], len(groups), axis=0)
        for index, (_, columns) in enumerate(groups):
            neutralised[index][:, columns] = baseline[columns]
        classifier = self.model.classifier
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
        write_decider_files(Path(directory), self)

    @classmethod
    def load(cls, directory: Path) -> GradientBoostingDecider:
        saved = read_decider_files(Path(directory))
        model = TreeModel(saved.classifier, saved.calibrated, saved.features, saved.explanation_baseline)
        decider = cls(
            model, threshold=saved.threshold, model_bytes=saved.model_bytes, metadata=saved.metadata, known=saved.known
        )
        saved.check_version(decider.version)
        return decider


@cache
def _threadpools() -> ThreadpoolController:
    return ThreadpoolController()


def single_threaded() -> Any:
    """Predict on one OpenMP thread: a micro-batch of pairs gains little from threads, and on a
    worker whose cores the encoder already uses, spinning OpenMP threads slow everything down."""
    return _threadpools().limit(limits=1, user_api="openmp")


def _listing_or_empty(listings: Sequence[Mapping[str, Any] | None], row: int) -> Mapping[str, Any]:
    listing = listings[row] if row < len(listings) else None
    return listing if listing is not None else {}
