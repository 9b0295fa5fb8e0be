import json
from pathlib import Path

import numpy as np
import pytest

from decider.calibration import best_f1_threshold, fit_platt
from decider.errors import DeciderError
from decider.models.base import Decider
from decider.models.threshold import ThresholdDecider
from decider.pairs import CandidatePairs


def pairs_with(similarities: list[float]) -> CandidatePairs:
    n = len(similarities)
    vectors = np.zeros((n, 4), dtype=np.float32)
    return CandidatePairs(
        query_ids=[f"q{i}" for i in range(n)],
        candidate_ids=[f"c{i}" for i in range(n)],
        text_similarity=np.array(similarities, dtype=np.float32),
        image_similarity=np.full(n, np.nan, dtype=np.float32),
        query_text=vectors,
        candidate_text=vectors,
    )


def separable_sample(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    positives = rng.normal(0.85, 0.05, 300)
    negatives = rng.normal(0.55, 0.08, 700)
    return np.concatenate([positives, negatives]), np.concatenate([np.ones(300), np.zeros(700)])


def test_fitted_decider_separates_and_is_calibrated() -> None:
    similarities, labels = separable_sample()
    decider = ThresholdDecider.fit(similarities, labels)
    assert isinstance(decider, Decider)
    probabilities = decider.score(pairs_with(list(similarities)))
    predicted = probabilities >= decider.threshold
    f1 = 2 * (predicted & (labels == 1)).sum() / (predicted.sum() + labels.sum())
    assert f1 > 0.95
    # Calibration: among pairs scored ~0.9, about 90% are duplicates (loose bound: 1,000 samples).
    band = (probabilities > 0.8) & (probabilities < 0.99)
    assert abs(labels[band].mean() - probabilities[band].mean()) < 0.1
    assert 0.6 < decider.similarity_threshold < 0.8


def test_probability_increases_with_similarity() -> None:
    decider = ThresholdDecider.fit(*separable_sample(1))
    scores = decider.score(pairs_with([0.1, 0.5, 0.7, 0.9, 0.99]))
    assert np.all(np.diff(scores) > 0)
    assert np.all((scores >= 0) & (scores <= 1))


def test_save_load_round_trip_and_tamper_detection(tmp_path: Path) -> None:
    decider = ThresholdDecider.fit(*separable_sample(2))
    decider.save(tmp_path)
    loaded = ThresholdDecider.load(tmp_path)
    assert loaded == decider and loaded.version == decider.version
    payload = json.loads((tmp_path / "decider.json").read_text())
    payload["threshold"] = 0.01
    (tmp_path / "decider.json").write_text(json.dumps(payload))
    with pytest.raises(DeciderError, match="does not match"):
        ThresholdDecider.load(tmp_path)


def test_load_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DeciderError, match="no decider"):
        ThresholdDecider.load(tmp_path)
    (tmp_path / "decider.json").write_text('{"kind": "gradient-boosting"}')
    with pytest.raises(DeciderError, match="gradient-boosting"):
        ThresholdDecider.load(tmp_path)


def test_fit_needs_both_classes() -> None:
    with pytest.raises(DeciderError, match="both"):
        ThresholdDecider.fit(np.array([0.9, 0.8]), np.array([1, 1]))


def test_best_f1_threshold_never_splits_ties() -> None:
    probabilities = np.array([0.9, 0.7, 0.7, 0.2])
    labels = np.array([1, 1, 0, 0])
    threshold = best_f1_threshold(probabilities, labels)
    assert threshold < 0.7 or threshold > 0.7
    assert (probabilities >= threshold).sum() in (1, 3)


def test_platt_recovers_a_known_logistic_model() -> None:
    rng = np.random.default_rng(3)
    scores = rng.uniform(0, 1, 20_000)
    labels = (rng.uniform(0, 1, 20_000) < 1 / (1 + np.exp(-(8 * scores - 5)))).astype(float)
    slope, intercept = fit_platt(scores, labels)
    assert slope == pytest.approx(8, rel=0.1)
    assert intercept == pytest.approx(-5, rel=0.1)


def test_candidate_pairs_reject_ragged_columns() -> None:
    with pytest.raises(ValueError, match="rows"):
        CandidatePairs(
            query_ids=["a"],
            candidate_ids=["b", "c"],
            text_similarity=np.zeros(1),
            image_similarity=np.zeros(1),
            query_text=np.zeros((1, 2)),
            candidate_text=np.zeros((1, 2)),
        )
