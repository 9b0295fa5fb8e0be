"""Pair-mode accuracy and cost of the deciders on the labeled sets.

    python benchmarks/bench_decider_pairs.py [--sets wdc-products abt-buy] [--seed 0]

For each set: every listing is encoded with the packaged all-MiniLM-L6-v2 (or --model-path) and
projected by a PCA to 128-d fitted on that set's listings (no fine-tuning). Deciders are fitted on
``train`` (trees), calibrated and thresholded on ``valid``, and scored on ``test``:

* ``baseline``: the ThresholdDecider (Platt-scaled text cosine), calibrated on ``valid``;
* ``vectors``: the GradientBoostingDecider on the text-vector features only;
* ``all_features``: the GradientBoostingDecider on every feature but the known-product ones;
* ``known_products``: the same plus the known-product features (train listings as known products).

Reports duplicate-class precision/recall/F1, macro F1 (mean of both classes' F1), test log-loss
and Brier score, and the decider's cost per pair (features, then model; explanations separately).
Each pair carries its own copy of the listing fields (as ``labeled_pairs`` builds them), so the
feature timing parses both listings of every pair: the worst case. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.metrics import brier_score_loss, log_loss

from decider.datasets.candidate_pairs import labeled_pairs
from decider.datasets.labeled import Dataset, load_dataset
from decider.evaluation.metrics import pair_metrics
from decider.features.pair import VECTOR_FEATURES, pair_features
from decider.models.base import Decider
from decider.models.gradient_boosting import GradientBoostingDecider
from decider.models.threshold import ThresholdDecider
from decider.pairs import CandidatePairs
from decider.training.fit_trees import fit_decider
from decider.training.products import known_products
from encoders.listing import listing_text
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_SETS = ("wdc-products", "abt-buy")
SPLITS = ("train", "valid", "test")
PCA_DIM = 128
TIMING_REPEATS = 3
EXPLAINED_PAIRS = 500


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Pair-mode F1 and cost of the deciders on labeled sets.")
    parser.add_argument("--sets", nargs="+", default=list(DEFAULT_SETS), help="dataset folder names under --data-dir")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--model-path", type=Path, default=None, help="default: the bundled all-MiniLM-L6-v2")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (the encoder only)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    encoder = TextEncoder(args.model_path, device=args.device)
    results = {name: bench_set(load_dataset(args.data_dir / name), encoder, args.seed) for name in args.sets}
    report = {
        "benchmark": "decider_pairs",
        "encoder": encoder.version,
        "device": str(encoder.device),
        "pca_dim": PCA_DIM,
        "seed": args.seed,
        "sklearn": sklearn.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "sets": results,
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def bench_set(dataset: Dataset, encoder: TextEncoder, seed: int) -> dict[str, Any]:
    ids = list(dataset.listings)
    started = time.perf_counter()
    encoded = encoder.encode([listing_text(dataset.listings[i]) for i in ids])
    encode_seconds = time.perf_counter() - started
    reducer = PcaReducer.fit(encoded, dim=PCA_DIM, source=encoder.version)
    vectors = dict(zip(ids, reducer.transform(encoded), strict=True))
    pairs, labels = {}, {}
    for split in SPLITS:  # the fields the worker stores and the decider reads, as in training
        pairs[split], labels[split] = labeled_pairs(vectors, dataset.listings, dataset.pairs(split))
    train, valid, test = (pairs[s] for s in SPLITS)
    known = known_products(dataset, dataset.pairs("train"), vectors)
    deciders: dict[str, Callable[[], Decider]] = {
        "baseline": lambda: ThresholdDecider.fit(valid.text_similarity, labels["valid"]),
        "vectors": lambda: fit_decider(
            train, labels["train"], valid, labels["valid"], seed=seed, features=VECTOR_FEATURES
        ),
        "all_features": lambda: fit_decider(train, labels["train"], valid, labels["valid"], seed=seed),
        "known_products": lambda: fit_decider(
            train, labels["train"], valid, labels["valid"], seed=seed, known=known
        ),
    }
    result: dict[str, Any] = {
        "pairs": {split: {"pairs": len(labels[split]), "duplicates": int(labels[split].sum())} for split in SPLITS},
        "encoder_ms_per_listing": round(1000 * encode_seconds / len(ids), 3),
    }
    for name, fit in deciders.items():
        started = time.perf_counter()
        decider = fit()
        fit_seconds = time.perf_counter() - started
        result[name] = {**scores_on_test(decider, test, labels["test"]), "fit_s": round(fit_seconds, 2)}
        if isinstance(decider, GradientBoostingDecider):
            result[name].update(trained_summary(decider, test))
    return result


def scores_on_test(decider: Decider, test: CandidatePairs, labels: np.ndarray) -> dict[str, float]:
    probabilities = decider.score(test)
    metrics = pair_metrics(probabilities, labels, decider.threshold)
    return {
        "f1": _round(metrics.f1),
        "precision": _round(metrics.precision),
        "recall": _round(metrics.recall),
        "macro_f1": _round(metrics.macro_f1),
        "log_loss": _round(log_loss(labels, np.clip(probabilities, 1e-7, 1 - 1e-7), labels=[0, 1])),
        "brier": _round(brier_score_loss(labels, probabilities)),
        "threshold": _round(decider.threshold),
    }


def trained_summary(decider: GradientBoostingDecider, test: CandidatePairs) -> dict[str, Any]:
    """Calibration choice, tree count and the cost per pair of features and of the model."""
    features_s = _best_time(lambda: pair_features(test, decider.known))
    score_s = _best_time(lambda: decider.score(test))
    explained = first_pairs(test, EXPLAINED_PAIRS)
    explain_s = _best_time(lambda: decider.explain(explained))
    return {
        "features_used": len(decider.features),
        "iterations": decider.metadata["iterations"],
        "calibration": decider.calibration,
        "calibration_log_loss_cv": {
            method: _round(loss) for method, loss in decider.metadata["calibration"]["valid_log_loss_cv"].items()
        },
        "valid_at_threshold": decider.metadata["valid_at_threshold"],
        "us_per_pair": {
            "features": round(1e6 * features_s / len(test), 1),
            "model": round(1e6 * max(score_s - features_s, 0.0) / len(test), 1),
            "total": round(1e6 * score_s / len(test), 1),
            "explain": round(1e6 * explain_s / len(explained), 1),
        },
    }


def first_pairs(pairs: CandidatePairs, count: int) -> CandidatePairs:
    end = min(count, len(pairs))
    return CandidatePairs(
        query_ids=pairs.query_ids[:end],
        candidate_ids=pairs.candidate_ids[:end],
        text_similarity=pairs.text_similarity[:end],
        image_similarity=pairs.image_similarity[:end],
        query_text=pairs.query_text[:end],
        candidate_text=pairs.candidate_text[:end],
        query_listings=pairs.query_listings[:end],
        candidate_listings=pairs.candidate_listings[:end],
    )


def _best_time(work: Callable[[], object]) -> float:
    timings = []
    for _ in range(TIMING_REPEATS):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def _round(value: float) -> float:
    return round(float(value), 4)


if __name__ == "__main__":
    raise SystemExit(main())
