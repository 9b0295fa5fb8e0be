"""Trees for the clear cases, a cross-encoder for the pairs they are unsure about.

The gradient-boosting decider scores every pair; a pair whose tree probability falls inside the
band ``[low, high]`` (chosen on valid, ``decider.training.cross_encoder``) is read again by the
cross-encoder, whose logit is Platt-calibrated on the valid pairs of that band and, when valid
said so, averaged with the trees' probability. A pair without its listings' fields keeps the tree
score: the cross-encoder reads the titles. Saved as the trees' files, ``cross-encoder/`` and
``decider-banded.json`` (written last, so its presence means a complete save).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from decider.calibration import sigmoid
from decider.errors import DeciderError
from decider.models.base import read_decider_json
from decider.models.cross_encoder import CrossEncoder
from decider.models.gradient_boosting import GradientBoostingDecider
from decider.pairs import CandidatePairs
from encoders.listing import listing_text
from infra.files import write_bytes_atomically

KIND = "banded-cross-encoder"
FORMAT_VERSION = 1
BANDED_FILE = "decider-banded.json"
CROSS_ENCODER_FOLDER = "cross-encoder"


@dataclass(frozen=True)
class Band:
    """Tree probabilities the trees leave to the cross-encoder, both ends included."""

    low: float
    high: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.low <= self.high <= 1.0:
            raise DeciderError(f"a band needs 0 <= low <= high <= 1, got [{self.low}, {self.high}]")

    def contains(self, probabilities: np.ndarray) -> np.ndarray:
        return (probabilities >= self.low) & (probabilities <= self.high)


@dataclass(frozen=True)
class BandCalibration:
    """p = weight * sigmoid(slope * logit + intercept) + (1 - weight) * tree p; weight 1 = the cross-encoder alone."""

    slope: float
    intercept: float
    weight: float = 1.0

    def cross_encoder_probability(self, logits: np.ndarray) -> np.ndarray:
        return sigmoid(self.slope * np.asarray(logits, dtype=np.float64) + self.intercept)

    def probability(self, logits: np.ndarray, tree_probabilities: np.ndarray) -> np.ndarray:
        return self.weight * self.cross_encoder_probability(logits) + (1.0 - self.weight) * tree_probabilities


class BandedDecider:
    """p(duplicate): the trees' outside the band, the calibrated cross-encoder's inside it."""

    name = "banded-cross-encoder"

    def __init__(
        self,
        trees: GradientBoostingDecider,
        cross_encoder: CrossEncoder,
        band: Band,
        calibration: BandCalibration,
        *,
        threshold: float,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        self.trees = trees
        self.cross_encoder = cross_encoder
        self.band = band
        self.calibration = calibration
        self.threshold = float(threshold)
        self.metadata = dict(metadata or {})  # what training measured on valid; not part of the version
        self.version = banded_version(trees.version, cross_encoder.version, band, calibration, self.threshold)

    def __repr__(self) -> str:
        return (
            f"BandedDecider(version={self.version!r}, band=[{self.band.low:.3f}, {self.band.high:.3f}],"
            f" threshold={self.threshold:.4f}, {self.trees!r}, {self.cross_encoder!r})"
        )

    # --- scoring ----------------------------------------------------------------------------------

    def score(self, pairs: CandidatePairs) -> np.ndarray:
        return self._scored(pairs)[0]

    def explain(self, pairs: CandidatePairs) -> list[str]:
        """The trees' reasons, led by the cross-encoder's probability where it decided; the verdict is ours."""
        if len(pairs) == 0:
            return []
        probabilities, tree_p, rows, logits = self._scored(pairs)
        cross_p = dict(zip(rows.tolist(), self.calibration.cross_encoder_probability(logits).tolist(), strict=True))
        reasons = []
        for row, tree_reason in enumerate(self.trees.explain(pairs)):
            verdict = "duplicate" if probabilities[row] >= self.threshold else "not a duplicate"
            phrases = _tree_phrases(tree_reason)
            if row in cross_p:
                phrases = f"cross-encoder p={cross_p[row]:.2f}; trees p={tree_p[row]:.2f}: {phrases}"
            reasons.append(f"{verdict} (p={probabilities[row]:.2f}): {phrases}")
        return reasons

    def _scored(self, pairs: CandidatePairs) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Final probabilities, tree probabilities, the band rows and the cross-encoder's logits for them."""
        tree_p = self.trees.score(pairs)
        rows = self.band_rows(pairs, tree_p)
        logits = self.cross_encoder.score(*pair_texts(pairs, rows))
        probabilities = tree_p.copy()
        probabilities[rows] = self.calibration.probability(logits, tree_p[rows])
        return probabilities, tree_p, rows, logits

    def band_rows(self, pairs: CandidatePairs, tree_probabilities: np.ndarray) -> np.ndarray:
        """Rows the cross-encoder reads: inside the band, with both listings' fields present."""
        return readable_rows(pairs, np.flatnonzero(self.band.contains(tree_probabilities)))

    # --- persistence ------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        self.trees.save(directory)
        self.cross_encoder.save(directory / CROSS_ENCODER_FOLDER)
        payload = {
            "kind": KIND,
            "format": FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "trees_version": self.trees.version,
            "cross_encoder_version": self.cross_encoder.version,
            "band": asdict(self.band),
            "calibration": asdict(self.calibration),
            "threshold": self.threshold,
            "metadata": self.metadata,
        }
        write_bytes_atomically(directory / BANDED_FILE, (json.dumps(payload, indent=2) + "\n").encode())

    @classmethod
    def load(cls, directory: Path, *, device: str = "auto") -> BandedDecider:
        directory = Path(directory)
        payload = _read_payload(directory / BANDED_FILE)
        trees = GradientBoostingDecider.load(directory)
        cross_encoder = CrossEncoder(directory / CROSS_ENCODER_FOLDER, device=device)
        decider = cls(
            trees,
            cross_encoder,
            Band(**payload["band"]),
            BandCalibration(**payload["calibration"]),
            threshold=float(payload["threshold"]),
            metadata=payload.get("metadata"),
        )
        if decider.version != payload.get("version"):
            raise DeciderError(
                f"{directory / BANDED_FILE}: stored version {payload.get('version')} does not match the trees"
                f" ({trees.version}) and cross-encoder ({cross_encoder.version}) found beside it; retrain"
            )
        return decider


def banded_version(
    trees_version: str, cross_encoder_version: str, band: Band, calibration: BandCalibration, threshold: float
) -> str:
    decisive = {
        "trees": trees_version,
        "cross_encoder": cross_encoder_version,
        "band": [round(band.low, 9), round(band.high, 9)],
        "calibration": [round(value, 9) for value in asdict(calibration).values()],
        "threshold": round(threshold, 9),
    }
    digest = hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()
    return f"banded-{digest[:12]}"


def _read_payload(path: Path) -> dict[str, Any]:
    payload = read_decider_json(path, KIND)
    if payload.get("format") != FORMAT_VERSION:
        raise DeciderError(f"{path} has format {payload.get('format')}, this release reads {FORMAT_VERSION}")
    return payload


def _texts(pairs: CandidatePairs, row: int) -> tuple[str, str] | None:
    query = pairs.query_listings[row] if row < len(pairs.query_listings) else None
    candidate = pairs.candidate_listings[row] if row < len(pairs.candidate_listings) else None
    if query is None or candidate is None:
        return None
    texts = listing_text(query), listing_text(candidate)
    return texts if all(texts) else None  # no title to read: the trees' score stands


def _tree_phrases(reason: str) -> str:
    """The trees' reasons without their verdict ("duplicate (p=0.62): a; b" -> "a; b")."""
    _, separator, phrases = reason.partition("): ")
    return phrases if separator else reason


def readable_rows(pairs: CandidatePairs, rows: Sequence[int]) -> np.ndarray:
    """Those of ``rows`` whose pair has both listings, each with a title: what the cross-encoder can read."""
    return np.array([row for row in rows if _texts(pairs, int(row)) is not None], dtype=np.int64)


def pair_texts(pairs: CandidatePairs, rows: Sequence[int]) -> tuple[list[str], list[str]]:
    """The texts the cross-encoder reads for ``rows`` (each must have both listings), for training and choosing."""
    texts = [_texts(pairs, int(row)) for row in rows]
    if any(text is None for text in texts):
        raise DeciderError("pair_texts: some rows lack the query or candidate listing")
    return [t[0] for t in texts if t], [t[1] for t in texts if t]
