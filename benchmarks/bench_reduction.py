"""What the reduction to 128-d costs: duplicate recall@k and decider F1 at full width vs reduced, as ONE JSON object.

    .venv/bin/python benchmarks/bench_reduction.py --data ../shared/data/wdc-products
    .venv/bin/python benchmarks/bench_reduction.py --data ../shared/data/abt-buy --encoder MODEL_DIR/text-encoder

recall@k: for every listing with a known duplicate, the share of its duplicates among its k nearest
other listings of the set (exact search, so only the vectors are compared, not an index). F1: the
test split through a decider trained the way ``dedup train`` does it (no fine-tuning; ``--encoder``
gives an already fine-tuned one), once per width. ``--distractors N`` adds N generated listings
(decider.synthetic, electronics-like titles) to the searched pool, never as queries: how recall
holds up as the index grows beyond the labeled set.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from decider.bundle import ModelBundle
from decider.datasets.labeled import load_dataset
from decider.evaluation.metrics import pair_metrics, recall_at_k
from decider.evaluation.scoring import score_split
from decider.synthetic.generator import generate_catalog
from decider.training.config import TrainConfig
from decider.training.job import train_model
from encoders.listing import listing_text
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder
from stream.commands.flags import add_flags


def partners_of(ids: list[str], duplicates: set[frozenset[str]]) -> dict[int, set[int]]:
    """Both directions: every listing with a known duplicate is a query. Rows past ``ids`` are distractors."""
    row = {listing_id: index for index, listing_id in enumerate(ids)}
    partners: dict[int, set[int]] = defaultdict(set)
    for pair in duplicates:
        first, second = (row[i] for i in pair)
        partners[first].add(second)
        partners[second].add(first)
    return partners


def decider_f1(data: Path, encoder_path: Path | None, dim: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "model"
        started = time.perf_counter()
        train_model(data, out, TrainConfig(dim=dim, base_model=encoder_path, progress=False, device="cpu"))
        seconds = time.perf_counter() - started
        model = ModelBundle.load(out, text_model_path=encoder_path, device="cpu")
        scores, labels = score_split(model, load_dataset(data), "test")
        metrics = pair_metrics(scores, labels, model.decider.threshold).as_dict()
    return {"f1": metrics["f1"], "macro_f1": metrics["macro_f1"], "train_seconds": round(seconds, 1)}


def distractor_texts(count: int) -> list[str]:
    if count <= 0:
        return []
    # The generator knows ~43k distinct products; with their duplicate listings that is ~58k listings.
    listings = generate_catalog(n_products=min(count, 40_000), seed=101).listings
    if len(listings) < count:
        raise SystemExit(f"--distractors: the generator yields at most {len(listings)} listings")
    return [listing_text(listing) for listing in listings[:count]]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--encoder", type=Path, help="a text-encoder folder (default: the packaged MiniLM)")
    add_flags(parser, TrainConfig, only=("dim",))
    parser.add_argument("--k", default="1,5,10,20", help="comma-separated k values for recall@k")
    parser.add_argument("--skip-decider", action="store_true", help="recall@k only")
    parser.add_argument("--distractors", type=int, default=0, help="generated listings added to the searched pool")
    args = parser.parse_args(argv)
    ks = sorted({int(k) for k in args.k.split(",")})
    dataset = load_dataset(args.data)
    encoder = TextEncoder(args.encoder, device="cpu")
    ids = list(dataset.listings)
    texts = [listing_text(dataset.listings[i]) for i in ids] + distractor_texts(args.distractors)
    full = encoder.encode(texts)
    fitted_on = {i for split in dataset.splits() if split != "test" for p in dataset.pairs(split) for i in (p.left_id, p.right_id)}
    rows = [index for index, listing_id in enumerate(ids) if listing_id in fitted_on] or list(range(len(ids)))
    reducer = PcaReducer.fit(full[rows], dim=args.dim, source=encoder.version)
    widths = {str(full.shape[1]): full / np.linalg.norm(full, axis=1, keepdims=True), str(args.dim): reducer.transform(full)}
    duplicates = dataset.duplicate_pairs()
    partners = partners_of(ids, duplicates)
    report: dict[str, object] = {
        "data": args.data.name,
        "encoder": encoder.version,
        "listings": len(ids),
        "distractors": args.distractors,
        "duplicate_pairs": len(duplicates),
        "explained_variance": round(float(np.sum(reducer.explained_variance_ratio)), 4),
        "recall": {
            width: {f"recall@{k}": value for k, value in recall_at_k(vectors, partners, ks).items()}
            for width, vectors in widths.items()
        },
    }
    if not args.skip_decider and "test" in dataset.splits():
        report["test"] = {width: decider_f1(args.data, args.encoder, int(width)) for width in widths}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
