"""The cross-encoder step of ``dedup train``: fine-tune it, choose its band on valid, keep it if it wins.

``attach_cross_encoder`` fine-tunes one (``decider.training.cross_encoder_finetune``) on the train
pairs and the mined candidate pairs, scores the valid pairs the trees are unsure of, and chooses
the band, the calibration and the threshold on the trees' out-of-fold valid probabilities (never
on scores of trees that saw those pairs, ``decider.training.band``); it returns a ``BandedDecider``
only when that beats the trees alone on cross-validated valid F1, and says what it measured in the
train report.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from decider.models.banded import CROSS_ENCODER_FOLDER, Band, BandedDecider, pair_texts, readable_rows
from decider.models.cross_encoder import CrossEncoder
from decider.models.gradient_boosting import GradientBoostingDecider
from decider.pairs import CandidatePairs
from decider.training.band import BAND_POINTS, BandChoice, choose_band, cross_validated_f1
from decider.training.config import TrainConfig
from decider.training.cross_encoder_finetune import CrossEncoderFit, CrossEncoderTraining, finetune_cross_encoder
from decider.training.fit_trees import out_of_fold_probabilities

# A cross-validated gain smaller than this is not worth a second model on every uncertain pair.
MIN_F1_GAIN = 0.005
NEGATIVES_PER_DUPLICATE = 3


class Report(Protocol):
    decider: dict[str, Any]


def attach_cross_encoder(
    trees: GradientBoostingDecider,
    train_set: CandidatePairs,
    train_labels: np.ndarray,
    valid_set: CandidatePairs,
    valid_labels: np.ndarray,
    out_dir: Path,
    config: TrainConfig,
    report: Report,
) -> GradientBoostingDecider | BandedDecider:
    """The trees, or the trees with a cross-encoder for their uncertain band: whichever valid prefers.

    ``config.cross_encoder``: None keeps it only when its cross-validated valid F1 beats the trees'
    by ``MIN_F1_GAIN``, True keeps it anyway, False skips the step. The cross-encoder is written to
    ``out_dir/cross-encoder`` (where the model folder keeps it) and removed when not kept.
    """
    target = out_dir / CROSS_ENCODER_FOLDER
    shutil.rmtree(target, ignore_errors=True)  # a previous run's, never this decider's
    tree_p = out_of_fold_probabilities(trees)
    reason = _reason_to_skip(config, tree_p, valid_labels)
    if reason or tree_p is None:
        report.decider["cross_encoder"] = {"kept": False, "reason": reason}
        return trees
    cross_encoder, fit = _fit(train_set, train_labels, target, config)
    logits, pairs_per_s = _valid_logits(cross_encoder, valid_set, tree_p)
    choice = choose_band(tree_p, logits, valid_labels, config.target_precision)
    honest = cross_validated_f1(tree_p, logits, valid_labels, config.target_precision, config.seed)
    gain = honest["banded"] - honest["trees"]
    keep = choice is not None and (config.cross_encoder is True or gain > MIN_F1_GAIN)
    report.decider["cross_encoder"] = {
        "kept": keep,
        "reason": _verdict(choice, gain, config.cross_encoder),
        **_summary(choice, trees, honest, fit),
        "valid_pairs_scored": int((~np.isnan(logits)).sum()),
        "pairs_per_s": round(pairs_per_s, 1),
        "device": str(cross_encoder.device),
    }
    if not keep or choice is None:
        del cross_encoder
        shutil.rmtree(target, ignore_errors=True)
        return trees
    metadata = {"valid_at_threshold": choice.valid, "valid_band_share": round(choice.share, 4), **honest}
    return BandedDecider(
        trees, cross_encoder, choice.band, choice.calibration, threshold=choice.threshold, metadata=metadata
    )


def _fit(
    train_set: CandidatePairs, train_labels: np.ndarray, target: Path, config: TrainConfig
) -> tuple[CrossEncoder, CrossEncoderFit]:
    """Fine-tune on (a balanced sample of) the train pairs; load the result as the worker would."""
    rows = _training_rows(train_set, train_labels, config.seed)
    settings = CrossEncoderTraining(
        epochs=config.cross_encoder_epochs, max_minutes=config.cross_encoder_minutes, seed=config.seed
    )
    texts_a, texts_b = pair_texts(train_set, rows)
    fit = finetune_cross_encoder(
        config.base_model, texts_a, texts_b, train_labels[rows], target, settings,
        progress=config.progress, device=config.device,
    )  # fmt: skip
    return CrossEncoder(target, device=config.device), fit


def _training_rows(pairs: CandidatePairs, labels: np.ndarray, seed: int) -> np.ndarray:
    """Every readable duplicate and at most ``NEGATIVES_PER_DUPLICATE`` times as many non-duplicates.

    Mined negatives outnumber the duplicates 30 to 1 on shopee-dev: a time-boxed run would spend
    nearly every step on them.
    """
    rows = readable_rows(pairs, np.arange(len(pairs)))
    positives, negatives = rows[labels[rows] == 1], rows[labels[rows] == 0]
    cap = NEGATIVES_PER_DUPLICATE * max(len(positives), 1)
    if len(negatives) > cap:
        negatives = np.random.default_rng(seed).choice(negatives, cap, replace=False)
    return np.sort(np.concatenate([positives, negatives]))


def _valid_logits(
    cross_encoder: CrossEncoder, valid_set: CandidatePairs, tree_p: np.ndarray
) -> tuple[np.ndarray, float]:
    """Logits of the readable valid pairs inside the widest band tried (NaN elsewhere), and pairs/s."""
    rows = readable_rows(valid_set, np.flatnonzero(Band(BAND_POINTS[0], BAND_POINTS[-1]).contains(tree_p)))
    logits = np.full(len(tree_p), np.nan)
    started = time.perf_counter()
    logits[rows] = cross_encoder.score(*pair_texts(valid_set, rows))
    return logits, len(rows) / max(time.perf_counter() - started, 1e-9)


def _reason_to_skip(config: TrainConfig, tree_p: np.ndarray | None, valid_labels: np.ndarray) -> str:
    if config.cross_encoder is False:
        return "switched off (cross_encoder=False)"
    if config.cross_encoder is None and not _has_gpu(config.device):
        # Measured: on 2 CPU cores the time box allows 34-90 steps, never enough to beat the trees (README).
        return "no GPU: left out by default (--cross-encoder trains it on the CPU anyway)"
    if tree_p is None or len(tree_p) != len(valid_labels):
        return "no out-of-fold valid probabilities for these trees (fit_decider_cross_validated gives them)"
    return ""


def _summary(
    choice: BandChoice | None, trees: GradientBoostingDecider, honest: dict[str, float], fit: CrossEncoderFit
) -> dict[str, Any]:
    chosen = {}
    if choice is not None:
        chosen = {
            "band": [choice.band.low, choice.band.high],
            "valid_band_share": round(choice.share, 4),
            "blend_weight": choice.calibration.weight,
            "threshold": round(choice.threshold, 6),
            "valid_f1_banded_as_chosen": choice.valid["f1"],
        }
    return {
        **chosen,
        "valid_f1_trees_out_of_fold": float(trees.metadata["valid_at_threshold"]["f1"]),
        "valid_f1_cross_validated": honest,
        "training": fit.summary(),
    }


def _verdict(choice: BandChoice | None, gain: float, requested: bool | None) -> str:
    if choice is None:
        return "no band had both duplicates and non-duplicates on valid"
    if requested is True:
        return f"kept as asked (cross_encoder=True); cross-validated valid F1 {gain:+.4f} over the trees"
    if gain > MIN_F1_GAIN:
        return f"cross-validated valid F1 {gain:+.4f} over the trees"
    return f"cross-validated valid F1 {gain:+.4f} over the trees, not above {MIN_F1_GAIN}: the trees decide alone"


def _has_gpu(device: str) -> bool:
    if device == "cpu":
        return False
    import torch

    return bool(torch.cuda.is_available())
