"""decider.models.gradient_boosting and decider.training.fit_trees: fit on generated pairs, calibration, thresholds,
explanations, persistence."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from decider.calibration import lowest_threshold_for_precision
from decider.datasets.candidate_pairs import labeled_pairs
from decider.datasets.labeled import LabeledPair
from decider.errors import DeciderError
from decider.features.pair import FEATURE_VERSION, VECTOR_FEATURES
from decider.known_products import KNOWN_PRODUCT_FEATURES, KNOWN_PRODUCTS_FILE, KnownProducts
from decider.models.base import Decider
from decider.models.gradient_boosting import GradientBoostingDecider
from decider.models.gradient_boosting_files import MANIFEST_FILE, MODEL_FILE
from decider.models.threshold import ThresholdDecider
from decider.pairs import CandidatePairs
from decider.synthetic.generator import generate_catalog
from decider.training.fit_trees import CALIBRATION_METHODS, fit_decider, fit_decider_cross_validated
from decider.training.products import clusters_from_positives
from encoders.listing import listing_text
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder

HELD_OUT = "held-out-"


@dataclass(frozen=True)
class Split:
    pairs: CandidatePairs
    labels: np.ndarray


@dataclass(frozen=True)
class Splits:
    train: Split
    valid: Split
    test: Split  # from another catalog: products and pairs the decider never saw


@pytest.fixture(scope="module")
def splits() -> Splits:
    """Generated pairs embedded the way the worker does it: packaged encoder, PCA fitted on the listings."""
    fitting, held_out = generate_catalog(260, seed=11), generate_catalog(120, seed=12)
    train_clusters, valid_clusters = fitting.split_clusters(0.4)
    # Both catalogs number their listings from syn-000000: keep the held-out ones apart.
    listings = {item["listing_id"]: item for item in fitting.listings}
    for item in held_out.listings:
        listings[HELD_OUT + item["listing_id"]] = {**item, "listing_id": HELD_OUT + item["listing_id"]}
    labeled = {
        "train": fitting.pairs(3, clusters=train_clusters),
        "valid": fitting.pairs(3, clusters=valid_clusters),
        "test": [LabeledPair(HELD_OUT + p.left_id, HELD_OUT + p.right_id, p.label) for p in held_out.pairs(3)],
    }
    needed = sorted({i for pairs in labeled.values() for pair in pairs for i in (pair.left_id, pair.right_id)})
    encoder = TextEncoder(device="cpu", max_length=48)
    encoded = encoder.encode([listing_text(listings[i]) for i in needed])
    reducer = PcaReducer.fit(encoded, dim=128, source=encoder.version)
    vectors = dict(zip(needed, reducer.transform(encoded), strict=True))
    return Splits(**{name: Split(*labeled_pairs(vectors, listings, pairs)) for name, pairs in labeled.items()})


@pytest.fixture(scope="module")
def decider(splits: Splits) -> GradientBoostingDecider:
    return fit_decider(splits.train.pairs, splits.train.labels, splits.valid.pairs, splits.valid.labels)


def f1_at_threshold(decider: Decider, split: Split) -> float:
    predicted = decider.score(split.pairs) >= decider.threshold
    true_positives = (predicted & (split.labels == 1)).sum()
    return float(2 * true_positives / (predicted.sum() + split.labels.sum()))


def precision_at(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    predicted = probabilities >= threshold
    return float(labels[predicted].mean()) if predicted.any() else 1.0


def test_trained_decider_beats_the_baseline_on_held_out_pairs(decider: GradientBoostingDecider, splits: Splits) -> None:
    baseline = ThresholdDecider.fit(splits.valid.pairs.text_similarity, splits.valid.labels)
    trained_f1, baseline_f1 = f1_at_threshold(decider, splits.test), f1_at_threshold(baseline, splits.test)
    assert isinstance(decider, Decider)
    assert trained_f1 > 0.85, trained_f1
    assert trained_f1 > baseline_f1 + 0.15, (trained_f1, baseline_f1)


def test_probabilities_are_calibrated_on_held_out_pairs(decider: GradientBoostingDecider, splits: Splits) -> None:
    probabilities = decider.score(splits.test.pairs)
    labels = splits.test.labels
    assert probabilities.shape == labels.shape and np.all((probabilities >= 0) & (probabilities <= 1))
    assert decider.calibration in CALIBRATION_METHODS
    assert all(np.isfinite(loss) for loss in decider.metadata["calibration"]["valid_log_loss_cv"].values())
    assert abs(probabilities.mean() - labels.mean()) < 0.08  # the base rate carries over
    confident_yes, confident_no = probabilities >= 0.9, probabilities <= 0.1
    assert labels[confident_yes].mean() > 0.85
    assert labels[confident_no].mean() < 0.1
    baseline = ThresholdDecider.fit(splits.valid.pairs.text_similarity, splits.valid.labels)
    brier = np.mean((probabilities - labels) ** 2)
    assert brier < np.mean((baseline.score(splits.test.pairs) - labels) ** 2)


def test_target_precision_is_reached_with_the_lowest_threshold(splits: Splits) -> None:
    target = 0.97
    strict = fit_decider(
        splits.train.pairs, splits.train.labels, splits.valid.pairs, splits.valid.labels, target_precision=target
    )
    probabilities = strict.score(splits.valid.pairs)
    labels = splits.valid.labels
    assert precision_at(probabilities, labels, strict.threshold) >= target
    assert strict.metadata["valid_at_threshold"]["recall"] > 0.5
    lower_cuts = np.unique(probabilities[probabilities < strict.threshold])
    assert all(precision_at(probabilities, labels, cut) < target for cut in lower_cuts)


def test_lowest_threshold_for_precision_and_unreachable_targets() -> None:
    probabilities = np.array([0.95, 0.9, 0.8, 0.8, 0.5, 0.2])
    labels = np.array([1, 1, 1, 0, 1, 0])
    # Cuts: after 0.95 -> 1.0, after 0.9 -> 1.0, after both 0.8s -> 0.75, after 0.5 -> 0.8, all -> 0.667.
    assert lowest_threshold_for_precision(probabilities, labels, 0.8) == pytest.approx(0.35)
    assert lowest_threshold_for_precision(probabilities, labels, 0.9) == pytest.approx(0.85)
    with pytest.raises(DeciderError, match="no threshold reaches precision 0.900"):
        lowest_threshold_for_precision(np.array([0.9, 0.8, 0.7]), np.array([0, 1, 1]), 0.9)


def test_fit_rejects_bad_input(splits: Splits) -> None:
    train, valid = splits.train, splits.valid
    with pytest.raises(DeciderError, match="target_precision"):
        fit_decider(train.pairs, train.labels, valid.pairs, valid.labels, target_precision=1.5)
    with pytest.raises(DeciderError, match="valid: need at least 2 duplicate"):
        fit_decider(train.pairs, train.labels, valid.pairs, np.zeros_like(valid.labels))
    with pytest.raises(DeciderError, match="train: .* labels of shape"):
        fit_decider(train.pairs, train.labels[:-1], valid.pairs, valid.labels)
    with pytest.raises(DeciderError, match="unknown feature"):
        fit_decider(train.pairs, train.labels, valid.pairs, valid.labels, features=["colour"])


def test_feature_subset_leaves_out_features_nan_everywhere(splits: Splits) -> None:
    vectors_only = fit_decider(
        splits.train.pairs, splits.train.labels, splits.valid.pairs, splits.valid.labels, features=VECTOR_FEATURES
    )
    assert vectors_only.features == tuple(name for name in VECTOR_FEATURES if name != "image_cosine")
    assert vectors_only.explain(splits.test.pairs)[0].count("text") >= 1


def test_explain_names_the_evidence(decider: GradientBoostingDecider, splits: Splits) -> None:
    reasons = decider.explain(splits.test.pairs)
    probabilities = decider.score(splits.test.pairs)
    assert len(reasons) == len(splits.test.pairs) and all(reasons)
    for reason, probability in zip(reasons, probabilities, strict=True):
        verdict = "duplicate" if probability >= decider.threshold else "not a duplicate"
        assert reason.startswith(f"{verdict} (p={probability:.2f}): ")
    # Identifiers and units drive these catalogs: most explanations must name one of them.
    named = sum(any(word in reason for word in ("model number", "differs", "agrees")) for reason in reasons)
    assert named / len(reasons) > 0.5


def test_save_load_round_trip(decider: GradientBoostingDecider, splits: Splits, tmp_path: Path) -> None:
    decider.save(tmp_path)
    loaded = GradientBoostingDecider.load(tmp_path)
    assert (loaded.version, loaded.threshold, loaded.features) == (decider.version, decider.threshold, decider.features)
    np.testing.assert_array_equal(loaded.score(splits.test.pairs), decider.score(splits.test.pairs))
    assert loaded.explain(splits.test.pairs) == decider.explain(splits.test.pairs)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert manifest["kind"] == "gradient-boosting" and manifest["feature_version"] == FEATURE_VERSION
    assert f"-f{FEATURE_VERSION}-" in decider.version


@pytest.fixture(scope="module")
def known(splits: Splits) -> KnownProducts:
    """The train split's listings with the products its positive pairs imply, as `dedup train` keeps them."""
    pairs = splits.train.pairs
    vectors = {**dict(zip(pairs.query_ids, pairs.query_text)), **dict(zip(pairs.candidate_ids, pairs.candidate_text))}
    labeled = [LabeledPair(q, c, int(y)) for q, c, y in zip(pairs.query_ids, pairs.candidate_ids, splits.train.labels)]
    return KnownProducts.from_labeled(clusters_from_positives(labeled), vectors, list(vectors))


def test_cross_validated_fit_thresholds_on_scores_no_tree_saw(splits: Splits, known: KnownProducts) -> None:
    decider = fit_decider_cross_validated(
        splits.train.pairs, splits.train.labels, splits.valid.pairs, splits.valid.labels, known=known
    )
    fitted_on = decider.metadata["fitted_on"]
    assert fitted_on["train_pairs"] == len(splits.train.labels) and fitted_on["valid_pairs"] == len(splits.valid.labels)
    assert set(KNOWN_PRODUCT_FEATURES) <= set(decider.features)
    assert f1_at_threshold(decider, splits.test) > 0.85
    # The saved trees have seen every valid pair; the reported valid F1 comes from held-out folds.
    in_sample_f1 = f1_at_threshold(decider, splits.valid)
    assert decider.metadata["valid_at_threshold"]["f1"] <= in_sample_f1 + 1e-6  # the metadata rounds to 6 places
    probabilities = decider.score(splits.test.pairs)
    assert np.all((probabilities >= 0) & (probabilities <= 1)) and decider.calibration in CALIBRATION_METHODS


def test_cross_validated_fit_on_valid_alone(splits: Splits) -> None:
    """What `dedup train --finetune` does: the fine-tuned encoder has memorised the train pairs."""
    decider = fit_decider_cross_validated(None, None, splits.valid.pairs, splits.valid.labels, seed=4)
    assert decider.metadata["fitted_on"]["train_pairs"] == 0
    assert f1_at_threshold(decider, splits.test) > 0.8
    with pytest.raises(DeciderError, match="valid: need at least 2 duplicate"):
        fit_decider_cross_validated(None, None, splits.valid.pairs, np.zeros_like(splits.valid.labels))


def test_known_products_travel_with_the_decider(splits: Splits, known: KnownProducts, tmp_path: Path) -> None:
    decider = fit_decider_cross_validated(
        splits.train.pairs, splits.train.labels, splits.valid.pairs, splits.valid.labels, known=known
    )
    decider.save(tmp_path)
    loaded = GradientBoostingDecider.load(tmp_path)
    assert loaded.known is not None and loaded.known.version == known.version and loaded.version == decider.version
    np.testing.assert_array_equal(loaded.score(splits.test.pairs), decider.score(splits.test.pairs))
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert manifest["known_products"]["listings"] == len(known)
    (tmp_path / KNOWN_PRODUCTS_FILE).unlink()
    with pytest.raises(DeciderError, match="missing"):
        GradientBoostingDecider.load(tmp_path)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda folder: _edit_manifest(folder, threshold=0.01), "does not match its contents"),
        (lambda folder: _edit_manifest(folder, sklearn_version="0.24.2"), "saved with scikit-learn 0.24.2"),
        (lambda folder: _edit_manifest(folder, feature_version="0"), "feature version '0'"),
        (lambda folder: _edit_manifest(folder, kind="similarity-threshold"), "expected 'gradient-boosting'"),
        (lambda folder: _flip_a_byte(folder / MODEL_FILE), "does not match its manifest"),
        (lambda folder: (folder / MODEL_FILE).unlink(), "missing"),
        (lambda folder: (folder / MANIFEST_FILE).unlink(), "no decider at"),
    ],
)
def test_load_refuses_tampered_or_incompatible_folders(
    decider: GradientBoostingDecider, tmp_path: Path, tamper: Any, message: str
) -> None:
    decider.save(tmp_path)
    tamper(tmp_path)
    with pytest.raises(DeciderError, match=message):
        GradientBoostingDecider.load(tmp_path)


def _edit_manifest(folder: Path, **changes: Any) -> None:
    path = folder / MANIFEST_FILE
    path.write_text(json.dumps({**json.loads(path.read_text()), **changes}))


def _flip_a_byte(path: Path) -> None:
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))


def test_empty_batches_and_missing_candidate_listings(
    decider: GradientBoostingDecider, splits: Splits, caplog: pytest.LogCaptureFixture
) -> None:
    pairs = splits.test.pairs
    empty = CandidatePairs.from_vectors([], [], pairs.query_text[:0], pairs.candidate_text[:0])
    assert decider.score(empty).shape == (0,) and decider.explain(empty) == []
    without_candidates = CandidatePairs.from_vectors(
        pairs.query_ids,
        pairs.candidate_ids,
        pairs.query_text,
        pairs.candidate_text,
        query_listings=pairs.query_listings,
    )
    with caplog.at_level(logging.WARNING, logger="decider.models.gradient_boosting"):
        probabilities = decider.score(without_candidates)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert f"{len(pairs)} of {len(pairs)} pairs lack" in caplog.text
