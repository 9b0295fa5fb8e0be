"""What contrastive fine-tuning of the text encoder buys on labeled product-matching sets.

    python benchmarks/bench_finetune.py [--data DIR ...] [--epochs 1] [--max-minutes 8] [--batch-size 32]

For each set: fine-tune the encoder on ``pairs/train.csv`` (duplicates as positives, its
non-duplicates as hard negatives), then score the raw and the fine-tuned encoder on
``pairs/test.csv``:

* duplicate-class F1 of a cosine threshold chosen on ``pairs/valid.csv``, at full width and after
  PCA to 128-d (fitted on the set's listings, as the service fits its reducer);
* duplicate recall@10: for each duplicate test pair, whether the right listing is among the left
  listing's 10 nearest neighbours among all the set's listings (exact search at 128-d), which is
  what the ANN candidate step can at best deliver to the decider.

Prints one JSON object on stdout (progress bars go to stderr). Wall times cover each phase, so the
fine-tuning cost can be read against a training-time budget.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from pydantic import Field
from pydantic.dataclasses import dataclass

from decider.calibration import best_f1_threshold
from decider.datasets.labeled import Dataset, LabeledPair, load_dataset
from decider.evaluation.metrics import recall_at_k
from encoders.listing import listing_text
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder, pick_device
from encoders.training.config import FinetuneConfig, FinetuneReport
from encoders.training.finetune import finetune_text_encoder
from stream.commands.flags import add_flags, parsed

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_SETS = ("wdc-products", "abt-buy")
TRAIN_SPLIT, VALID_SPLIT, TEST_SPLIT = "train", "valid", "test"
PCA_DIM = 128
NEIGHBOURS = 10
_Result = TypeVar("_Result")


@dataclass(frozen=True)
class BenchOptions:
    data: list[Path] = Field(
        default_factory=lambda: [DEFAULT_DATA_DIR / name for name in DEFAULT_SETS],
        description="dataset folders with pairs/train.csv, valid.csv and test.csv (default: wdc-products and abt-buy)",
    )
    epochs: int = Field(default=1, ge=1)
    max_minutes: float | None = Field(default=FinetuneConfig.max_minutes, gt=0, description="time box per set's fine-tuning")
    batch_size: int = Field(default=FinetuneConfig.batch_size, ge=1)
    learning_rate: float = Field(default=FinetuneConfig.learning_rate, gt=0)
    hard_negatives: int = FinetuneConfig.hard_negatives_per_anchor
    max_length: int = Field(default=FinetuneConfig.max_length, ge=1)
    seed: int = FinetuneConfig.seed
    device: str = Field(default="auto", description="auto, cpu, cuda or cuda:N")
    model_path: Path | None = Field(default=None, description="base encoder (default: all-MiniLM-L6-v2)")
    progress: bool = Field(default=True, description="the progress bar on stderr")


def parse_args(argv: list[str] | None = None) -> BenchOptions:
    parser = argparse.ArgumentParser(description="Raw vs fine-tuned text encoder on labeled product pairs.")
    add_flags(parser, BenchOptions)
    return parsed(BenchOptions, parser.parse_args(argv))


def timed(action: Callable[[], _Result]) -> tuple[_Result, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


# --- training data -------------------------------------------------------------------------------


def training_pairs(dataset: Dataset, texts: Mapping[str, str]) -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """Positives from the train split's label-1 pairs; each text's label-0 partners as its hard negatives."""
    positives: list[tuple[str, str]] = []
    hard_negatives: dict[str, list[str]] = {}
    for pair in dataset.pairs(TRAIN_SPLIT):
        left, right = texts[pair.left_id], texts[pair.right_id]
        if pair.label == 1:
            positives.append((left, right))
        else:
            hard_negatives.setdefault(left, []).append(right)
            hard_negatives.setdefault(right, []).append(left)
    return positives, hard_negatives


# --- scoring -------------------------------------------------------------------------------------


def pair_cosines(pairs: Sequence[LabeledPair], row_of: Mapping[str, int], vectors: np.ndarray) -> np.ndarray:
    left = vectors[[row_of[pair.left_id] for pair in pairs]]
    right = vectors[[row_of[pair.right_id] for pair in pairs]]
    return np.sum(left * right, axis=1)


def threshold_f1(dataset: Dataset, row_of: Mapping[str, int], vectors: np.ndarray) -> dict[str, float]:
    """Duplicate-class precision / recall / F1 on test, at the cosine cut with the best F1 on valid."""
    valid, test = dataset.pairs(VALID_SPLIT), dataset.pairs(TEST_SPLIT)
    valid_labels = np.array([pair.label for pair in valid])
    threshold = best_f1_threshold(pair_cosines(valid, row_of, vectors), valid_labels)
    test_labels = np.array([pair.label for pair in test]) == 1
    predicted = pair_cosines(test, row_of, vectors) >= threshold
    true_positives = int(np.sum(predicted & test_labels))
    precision = true_positives / max(int(predicted.sum()), 1)
    recall = true_positives / max(int(test_labels.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    scores = {"f1": f1, "precision": precision, "recall": recall, "threshold": threshold}
    return {name: round(value, 4) for name, value in scores.items()}


def split_recall_at_k(pairs: Sequence[LabeledPair], row_of: Mapping[str, int], vectors: np.ndarray, k: int) -> float:
    """Share of duplicate pairs whose right listing is among the left listing's k nearest others."""
    partners: dict[int, set[int]] = {}
    for pair in pairs:
        if pair.label == 1:
            partners.setdefault(row_of[pair.left_id], set()).add(row_of[pair.right_id])
    return recall_at_k(vectors, partners, [k])[k]


def score_encoder(dataset: Dataset, row_of: Mapping[str, int], vectors: np.ndarray, source: str) -> dict[str, Any]:
    reducer = PcaReducer.fit(vectors, dim=PCA_DIM, source=source)
    reduced = reducer.transform(vectors)
    test = dataset.pairs(TEST_SPLIT)
    return {
        f"f1_{vectors.shape[1]}d": threshold_f1(dataset, row_of, vectors),
        f"f1_{PCA_DIM}d": threshold_f1(dataset, row_of, reduced),
        f"recall_at_{NEIGHBOURS}_{PCA_DIM}d": split_recall_at_k(test, row_of, reduced, NEIGHBOURS),
        f"recall_at_{NEIGHBOURS}_{vectors.shape[1]}d": split_recall_at_k(test, row_of, vectors, NEIGHBOURS),
    }


# --- one set -------------------------------------------------------------------------------------


def finetune_config(options: BenchOptions) -> FinetuneConfig:
    return FinetuneConfig(
        epochs=options.epochs,
        batch_size=options.batch_size,
        learning_rate=options.learning_rate,
        max_length=options.max_length,
        hard_negatives_per_anchor=options.hard_negatives,
        seed=options.seed,
        max_minutes=options.max_minutes,
    )


def training_summary(report: FinetuneReport, wall_s: float, positives: int, hard_negatives: int) -> dict[str, Any]:
    return {
        "positive_pairs": positives,
        "hard_negatives": hard_negatives,
        "steps": report.steps,
        "steps_planned": report.steps_planned,
        "stopped_early": report.stopped_early,
        "epochs_done": round(report.epochs_done, 3),
        "train_loop_s": round(report.seconds, 1),
        "steps_per_s": round(report.steps_per_second, 3),
        "loss_first": round(report.loss_first, 4),
        "loss_last": round(report.loss_last, 4),
        "wall_s_with_load_and_save": round(wall_s, 1),
    }


def run_set(root: Path, options: BenchOptions) -> dict[str, Any]:
    started = time.perf_counter()
    dataset = load_dataset(root)
    listing_ids = list(dataset.listings)
    row_of = {listing_id: row for row, listing_id in enumerate(listing_ids)}
    texts = {listing_id: listing_text(dataset.listings[listing_id]) for listing_id in listing_ids}
    ordered_texts = [texts[listing_id] for listing_id in listing_ids]
    positives, hard_negatives = training_pairs(dataset, texts)

    raw = TextEncoder(options.model_path, device=options.device, max_length=options.max_length)
    raw_vectors, raw_encode_s = timed(lambda: raw.encode(ordered_texts))
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as scratch:
        report, train_wall_s = timed(
            lambda: finetune_text_encoder(
                options.model_path,
                positives,
                hard_negatives,
                Path(scratch) / "text-encoder",
                finetune_config(options),
                progress=options.progress,
                device=options.device,
            )
        )
        tuned = TextEncoder(report.out_dir, device=options.device, max_length=options.max_length)
        tuned_vectors, tuned_encode_s = timed(lambda: tuned.encode(ordered_texts))
    return {
        "listings": len(listing_ids),
        "pairs": {split: len(dataset.pairs(split)) for split in (TRAIN_SPLIT, VALID_SPLIT, TEST_SPLIT)},
        "raw": score_encoder(dataset, row_of, raw_vectors, raw.version),
        "finetuned": score_encoder(dataset, row_of, tuned_vectors, tuned.version),
        "training": training_summary(report, train_wall_s, len(positives), sum(map(len, hard_negatives.values()))),
        "encode_listings_s": {"raw": round(raw_encode_s, 1), "finetuned": round(tuned_encode_s, 1)},
        "set_wall_s": round(time.perf_counter() - started, 1),
    }


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def run(options: BenchOptions) -> dict[str, Any]:
    config = finetune_config(options)
    device = pick_device(options.device)
    return {
        "benchmark": "finetune",
        "config": {key: getattr(config, key) for key in config.__dataclass_fields__},
        "device": str(device),
        "device_name": device_name(device),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        "sets": {root.resolve().name: run_set(root, options) for root in options.data},
        "load_average_15m_at_end": round(os.getloadavg()[2], 2),
    }


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    for root in options.data:
        if not (root / "pairs" / f"{TEST_SPLIT}.csv").is_file():
            raise SystemExit(f"{root}: no pairs/{TEST_SPLIT}.csv; pass --data <folder(s) in the shared dataset layout>")
    result = run(options)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
