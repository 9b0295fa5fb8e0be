"""decider.models.cross_encoder, decider.models.banded and decider.training.cross_encoder: a few-step
fine-tune, band routing, explanations, persistence, and the train step keeping the trees when it cannot win."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from decider.bundle import load_decider
from decider.datasets.candidate_pairs import labeled_pairs
from decider.models.banded import CROSS_ENCODER_FOLDER, Band, BandCalibration, BandedDecider
from decider.models.base import Decider
from decider.models.cross_encoder import CrossEncoder
from decider.models.gradient_boosting import GradientBoostingDecider
from decider.pairs import CandidatePairs
from decider.synthetic.generator import generate_catalog
from decider.training.band import choose_band, cross_validated_f1
from decider.training.config import TrainConfig
from decider.training.cross_encoder import attach_cross_encoder
from decider.training.cross_encoder_finetune import CrossEncoderTraining, finetune_cross_encoder
from decider.training.fit_trees import fit_decider_cross_validated, out_of_fold_probabilities
from encoders.listing import listing_text

if TYPE_CHECKING:
    from encoders.text import TextEncoder


@dataclass(frozen=True)
class LabeledSet:
    pairs: CandidatePairs
    labels: np.ndarray


@dataclass
class Report:
    decider: dict[str, Any] = dataclasses.field(default_factory=dict)


def labeled_sets(noise: float, seed: int = 5) -> tuple[LabeledSet, LabeledSet]:
    """Generated train and valid pairs; each product's listings share a random vector, blurred by ``noise``."""
    catalog = generate_catalog(50, seed=seed)
    train_clusters, valid_clusters = catalog.split_clusters(0.5)
    rng = np.random.default_rng(seed)
    product_vector = {cluster: rng.normal(size=16) for cluster in set(catalog.truth.values())}
    vectors = {}
    for listing_id, cluster in catalog.truth.items():
        vector = product_vector[cluster] + noise * rng.normal(size=16)
        vectors[listing_id] = (vector / np.linalg.norm(vector)).astype(np.float32)
    listings = {listing["listing_id"]: listing for listing in catalog.listings}
    train = labeled_pairs(vectors, listings, catalog.pairs(2, clusters=train_clusters))
    valid = labeled_pairs(vectors, listings, catalog.pairs(2, clusters=valid_clusters))
    return LabeledSet(*train), LabeledSet(*valid)


@pytest.fixture(scope="module")
def noisy() -> tuple[LabeledSet, LabeledSet]:
    return labeled_sets(noise=1.2)


# Short pairs keep a CPU training step to a fraction of a second.
TRAIN_PAIRS = [
    ("usb c cable 2m black", "usb-c cable 2 m black", 1),
    ("usb c cable 2m black", "hdmi cable 2m black", 0),
    ("apple iphone 12 128gb blue", "iphone 12 128 gb blue apple", 1),
    ("apple iphone 12 128gb blue", "apple iphone 13 128gb blue", 0),
    ("bose qc45 headphones white", "bose quietcomfort 45 white", 1),
    ("bose qc45 headphones white", "sony wh-1000xm4 black", 0),
    ("nike air max 90 size 42", "air max 90 nike 42", 1),
    ("nike air max 90 size 42", "adidas ultraboost size 42", 0),
]


@pytest.fixture(scope="module")
def cross_encoder(tmp_path_factory: pytest.TempPathFactory, packaged_encoder: TextEncoder) -> CrossEncoder:
    """The packaged MiniLM fine-tuned for a few steps on ``TRAIN_PAIRS``."""
    texts_a, texts_b, labels = zip(*TRAIN_PAIRS, strict=True)
    out = tmp_path_factory.mktemp("ce") / "cross-encoder"
    settings = CrossEncoderTraining(epochs=3, batch_size=8, learning_rate=4e-4, max_minutes=None)
    fit = finetune_cross_encoder(
        packaged_encoder.model_path, texts_a, texts_b, np.array(labels), out, settings, progress=False, device="cpu"
    )
    assert fit.steps == fit.steps_planned == 3 and fit.epochs_done == pytest.approx(3.0)
    assert np.isfinite([fit.loss_first, fit.loss_last]).all()
    return CrossEncoder(out, device="cpu", batch_size=8)


@pytest.fixture(scope="module")
def valid_pairs(noisy: Any) -> CandidatePairs:
    """The first 24 valid pairs: enough to route some inside the band and some outside, cheap to score."""
    return subset(noisy[1].pairs, range(24))


def subset(pairs: CandidatePairs, rows: Any) -> CandidatePairs:
    rows = list(rows)
    columns = ("query_ids", "candidate_ids", "query_listings", "candidate_listings")
    lists = {name: [getattr(pairs, name)[row] for row in rows] for name in columns}
    vectors = ("text_similarity", "image_similarity", "query_text", "candidate_text")
    arrays = {name: getattr(pairs, name)[rows] for name in vectors}
    return CandidatePairs(**lists, **arrays)


@pytest.fixture(scope="module")
def trees(noisy: Any) -> GradientBoostingDecider:
    train, valid = noisy
    return fit_decider_cross_validated(train.pairs, train.labels, valid.pairs, valid.labels, seed=0)


def middle_band(trees: GradientBoostingDecider, pairs: CandidatePairs) -> Band:
    """A band holding some pairs and leaving others out."""
    low, high = np.quantile(trees.score(pairs), [0.3, 0.7])
    return Band(float(low), float(high))


@pytest.fixture(scope="module")
def banded(trees: GradientBoostingDecider, cross_encoder: CrossEncoder, valid_pairs: CandidatePairs) -> BandedDecider:
    band = middle_band(trees, valid_pairs)
    return BandedDecider(trees, cross_encoder, band, BandCalibration(0.8, -0.2, 1.0), threshold=0.5)


def test_fine_tuned_cross_encoder_separates_the_pairs_it_learned(cross_encoder: CrossEncoder) -> None:
    texts_a, texts_b, labels = (np.array(column) for column in zip(*TRAIN_PAIRS, strict=True))
    logits = cross_encoder.score(list(texts_a), list(texts_b))
    assert logits.dtype == np.float32 and logits.shape == (len(TRAIN_PAIRS),)
    assert logits[labels == 1].min() > logits[labels == 0].max()


def test_scores_keep_the_input_order_whatever_the_batching(cross_encoder: CrossEncoder) -> None:
    texts_a = ["usb c cable 2m", "a much longer title for a stainless steel water bottle 750 ml blue", "tv"]
    texts_b = ["usb-c cable 200 cm", "steel bottle 750ml", "television 55 inch"]
    together = cross_encoder.score(texts_a, texts_b)
    one_by_one = np.concatenate([cross_encoder.score([a], [b]) for a, b in zip(texts_a, texts_b, strict=True)])
    np.testing.assert_allclose(together, one_by_one, atol=1e-4)
    assert cross_encoder.score([], []).shape == (0,)


def test_pairs_outside_the_band_or_without_listings_keep_the_tree_score(
    banded: BandedDecider, valid_pairs: CandidatePairs
) -> None:
    pairs = valid_pairs
    tree_p, scores = banded.trees.score(pairs), banded.score(pairs)
    inside = banded.band.contains(tree_p)
    assert 0 < inside.sum() < len(pairs)
    np.testing.assert_array_equal(scores[~inside], tree_p[~inside])
    rows = np.flatnonzero(inside)
    logits = banded.cross_encoder.score(
        [listing_text(pairs.query_listings[row]) for row in rows],
        [listing_text(pairs.candidate_listings[row] or {}) for row in rows],
    )
    np.testing.assert_allclose(scores[rows], banded.calibration.probability(logits, tree_p[rows]), atol=1e-5)
    without_listings = dataclasses.replace(pairs, candidate_listings=[None] * len(pairs))
    np.testing.assert_array_equal(banded.score(without_listings), banded.trees.score(without_listings))


def test_band_pairs_are_explained_by_the_cross_encoder_first(
    banded: BandedDecider, valid_pairs: CandidatePairs
) -> None:
    pairs = valid_pairs
    inside = banded.band.contains(banded.trees.score(pairs))
    scores, reasons = banded.score(pairs), banded.explain(pairs)
    for row, reason in enumerate(reasons):
        verdict = "duplicate" if scores[row] >= banded.threshold else "not a duplicate"
        assert reason.startswith(f"{verdict} (p={scores[row]:.2f}): ")
        if inside[row]:
            assert reason.index("cross-encoder p=") < reason.index("trees p=")
        else:
            assert "cross-encoder" not in reason
    assert banded.explain(dataclasses.replace(pairs, query_ids=[], candidate_ids=[], **_empty_columns())) == []


def _empty_columns() -> dict[str, Any]:
    empty = np.zeros((0, 16), dtype=np.float32)
    return {
        "text_similarity": np.zeros(0),
        "image_similarity": np.zeros(0),
        "query_text": empty,
        "candidate_text": empty,
        "query_listings": [],
        "candidate_listings": [],
    }


def test_save_and_load_give_the_same_scores_and_version(
    banded: BandedDecider, valid_pairs: CandidatePairs, tmp_path: Path
) -> None:
    banded.save(tmp_path)
    loaded = load_decider(tmp_path, "banded-cross-encoder")
    assert isinstance(loaded, BandedDecider) and isinstance(loaded, Decider)
    assert loaded.version == banded.version and loaded.cross_encoder.version == banded.cross_encoder.version
    assert loaded.band == banded.band and loaded.threshold == banded.threshold
    np.testing.assert_allclose(loaded.score(valid_pairs), banded.score(valid_pairs), atol=1e-6)
    changed = BandedDecider(banded.trees, banded.cross_encoder, Band(0.1, 0.9), banded.calibration, threshold=0.5)
    assert changed.version != banded.version


def test_band_choice_beats_the_trees_when_the_cross_encoder_knows_the_labels() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    tree_p = np.clip(0.5 + 0.3 * (labels - 0.5) + rng.normal(0, 0.2, 400), 0, 1)  # unsure in the middle
    logits = np.where(labels == 1, 3.0, -3.0) + rng.normal(0, 0.5, 400)
    logits[(tree_p < 0.02) | (tree_p > 0.98)] = np.nan  # not read by the cross-encoder
    choice = choose_band(tree_p, logits, labels)
    assert choice is not None and choice.valid["f1"] > 0.97
    assert 0 < choice.share <= 1 and choice.band.low < choice.band.high
    honest = cross_validated_f1(tree_p, logits, labels, None, seed=0)
    assert honest["banded"] > honest["trees"] + 0.1


def test_a_cross_encoder_that_knows_nothing_does_not_beat_the_trees_once_cross_validated() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 2000)
    tree_p = np.clip(0.5 + 0.4 * (labels - 0.5) + rng.normal(0, 0.2, 2000), 0, 1)
    noise = rng.normal(size=2000)  # a useless cross-encoder: its in-sample best band still gains by luck
    honest = cross_validated_f1(tree_p, noise, labels, None, seed=0)
    assert honest["banded"] <= honest["trees"] + 0.005


def test_without_a_gpu_the_default_leaves_the_cross_encoder_out(tmp_path: Path) -> None:
    train, valid = labeled_sets(noise=0.0, seed=7)
    trees = fit_decider_cross_validated(train.pairs, train.labels, valid.pairs, valid.labels, seed=0)
    report = Report()
    kept = attach_cross_encoder(
        trees, train.pairs, train.labels, valid.pairs, valid.labels, tmp_path, TrainConfig(device="cpu"), report
    )
    assert kept is trees and report.decider["cross_encoder"]["reason"].startswith("no GPU")


def test_the_train_step_keeps_the_trees_when_the_cross_encoder_cannot_win(
    tmp_path: Path, packaged_encoder: TextEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("decider.training.cross_encoder._has_gpu", lambda _device: True)  # decide as on a GPU
    train, valid = labeled_sets(noise=0.0, seed=7)  # each product's own vector: the trees are perfect
    trees = fit_decider_cross_validated(train.pairs, train.labels, valid.pairs, valid.labels, seed=0)
    assert trees.metadata["valid_at_threshold"]["f1"] == 1.0 and out_of_fold_probabilities(trees) is not None
    config = TrainConfig(
        base_model=packaged_encoder.model_path, cross_encoder_minutes=0.005, device="cpu", progress=False
    )
    report = Report()
    few = subset(train.pairs, range(4))  # one short training step
    kept = attach_cross_encoder(trees, few, train.labels[:4], valid.pairs, valid.labels, tmp_path, config, report)
    assert kept is trees and report.decider["cross_encoder"]["kept"] is False
    assert report.decider["cross_encoder"]["training"]["steps"] >= 1
    assert not (tmp_path / CROSS_ENCODER_FOLDER).exists()
    off = attach_cross_encoder(
        trees, train.pairs, train.labels, valid.pairs, valid.labels, tmp_path,
        dataclasses.replace(config, cross_encoder=False), report,
    )  # fmt: skip
    assert off is trees
    assert report.decider["cross_encoder"] == {"kept": False, "reason": "switched off (cross_encoder=False)"}
