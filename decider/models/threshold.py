"""Baseline decider: a similarity threshold, Platt-calibrated into a probability.

It is the reference the trained decider must beat, behind the same interface.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from decider.calibration import best_f1_threshold, fit_platt, sigmoid
from decider.errors import DeciderError
from decider.models.base import read_decider_json
from decider.pairs import CandidatePairs

DECIDER_FILE = "decider.json"
KIND = "similarity-threshold"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ThresholdDecider:
    """p(duplicate) = sigmoid(slope * text_similarity + intercept); duplicate when p >= threshold."""

    slope: float
    intercept: float
    threshold: float
    fitted_on: int = 0
    name: str = "baseline-similarity-threshold"

    @property
    def version(self) -> str:
        params = f"{self.slope:.6f}|{self.intercept:.6f}|{self.threshold:.6f}".encode()
        return f"threshold-{hashlib.sha256(params).hexdigest()[:12]}"

    @property
    def similarity_threshold(self) -> float:
        """The cosine similarity at which p crosses the decision threshold."""
        logit = np.log(self.threshold / (1.0 - self.threshold))
        return float((logit - self.intercept) / self.slope)

    @classmethod
    def fit(cls, similarities: np.ndarray, labels: np.ndarray) -> "ThresholdDecider":
        """Platt scaling on labeled pairs, then the threshold with the best duplicate-class F1."""
        similarities = np.asarray(similarities, dtype=np.float64)
        labels = np.asarray(labels, dtype=np.float64)
        if len(similarities) != len(labels) or len(labels) == 0:
            raise DeciderError("need the same, non-zero number of similarities and labels")
        if labels.min() == labels.max():
            raise DeciderError("calibration needs both duplicate and non-duplicate pairs")
        slope, intercept = fit_platt(similarities, labels)
        probabilities = sigmoid(slope * similarities + intercept)
        threshold = best_f1_threshold(probabilities, labels)
        return cls(slope=slope, intercept=intercept, threshold=threshold, fitted_on=len(labels))

    def score(self, pairs: CandidatePairs) -> np.ndarray:
        return sigmoid(self.slope * np.asarray(pairs.text_similarity, dtype=np.float64) + self.intercept)

    def explain(self, pairs: CandidatePairs) -> list[str]:
        cut = self.similarity_threshold
        return [f"text cosine {s:.3f} vs cut {cut:.3f}" for s in np.asarray(pairs.text_similarity)]

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "kind": KIND,
            "format": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "slope": self.slope,
            "intercept": self.intercept,
            "threshold": self.threshold,
            "fitted_on": self.fitted_on,
        }
        (directory / DECIDER_FILE).write_text(json.dumps(payload, indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> "ThresholdDecider":
        path = directory / DECIDER_FILE
        payload = read_decider_json(path, KIND)
        decider = cls(
            slope=float(payload["slope"]),
            intercept=float(payload["intercept"]),
            threshold=float(payload["threshold"]),
            fitted_on=int(payload.get("fitted_on", 0)),
            name=str(payload.get("name", cls.name)),
        )
        if payload.get("version") != decider.version:
            raise DeciderError(f"{path}: stored version {payload.get('version')} does not match its parameters")
        return decider
