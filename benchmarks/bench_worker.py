"""`dedup run` throughput on the embedded stack, next to the bare text encoder on the same titles.

Starts a private stack (tansu, redis-server, Milvus Lite) in a temporary folder, publishes a generated
catalog, runs the worker until every listing is processed, and prints ONE JSON object:

    .venv/bin/python benchmarks/bench_worker.py --listings 5000 --batch-size 64

Both figures come from the same run on the same machine, so their ratio is meaningful even where
absolute numbers are noisy.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson
import torch

from decider.synthetic.generator import generate_catalog
from decider.training.quick_models import fit_baseline_bundle
from encoders.listing import listing_text
from encoders.text import TextEncoder
from infra.stack.local import LocalStack
from infra.stack.services import free_port
from stream.publish import publish_values
from stream.settings import Settings
from stream.worker.runtime import open_runtime


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=5_000, help="approximate catalog size")
    parser.add_argument("--batch-size", type=int, default=64, help="micro-batch and encoder batch size")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--no-redis", action="store_true", help="run the worker without the Redis cache")
    return parser.parse_args(argv)


def catalog_of(listings: int, seed: int) -> list[dict]:
    # About 1.5 listings per product in the generated catalogs.
    catalog = generate_catalog(n_products=max(10, int(listings / 1.5)), seed=seed)
    return catalog.listings[:listings]


def bare_encoder_titles_per_s(encoder: TextEncoder, texts: list[str], batch_size: int) -> float:
    """The encoder alone, fed the same micro-batches the worker sees (same order, same size)."""
    encoder.encode(texts[:batch_size])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        encoder.encode(texts[start : start + batch_size])
    return len(texts) / (time.perf_counter() - started)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = parse_args(argv)
    listings = catalog_of(args.listings, args.seed)
    encoder = TextEncoder(device="auto", batch_size=args.batch_size)
    calibration = generate_catalog(n_products=400, seed=args.seed + 1)
    model = fit_baseline_bundle(
        encoder,
        {item["listing_id"]: item for item in calibration.listings},
        calibration.pairs(),
        clusters=calibration.truth,
    )
    with tempfile.TemporaryDirectory() as state:
        model.save(Path(state) / "model")
        stack = LocalStack(Path(state), kafka_port=free_port(), redis_port=free_port())
        status = stack.up()
        try:
            figures = run_worker(status, model, listings, args)
            # Measured with the stack still up: same machine, same background load.
            texts = [listing_text(item) for item in listings]
            figures["bare_encoder_titles_per_s"] = round(bare_encoder_titles_per_s(encoder, texts, args.batch_size), 1)
        finally:
            stack.down()
    figures["worker_vs_encoder"] = round(figures["worker_events_per_s"] / figures["bare_encoder_titles_per_s"], 3)
    figures.update(
        listings=len(listings),
        batch_size=args.batch_size,
        device=str(encoder.device),
        torch_threads=torch.get_num_threads(),
        redis=not args.no_redis,
    )
    print(orjson.dumps(figures).decode())
    return 0


def run_worker(status, model, listings: list[dict], args: argparse.Namespace) -> dict:  # type: ignore[no-untyped-def]
    name = f"bench_{uuid.uuid4().hex[:8]}"
    settings = Settings(
        kafka={"bootstrap_servers": status.kafka_bootstrap, "group_id": name, "session_timeout_ms": 6_000},
        topics={"listings": f"{name}-created", "duplicates": f"{name}-duplicates", "dlq": f"{name}-dlq"},
        milvus={"uri": status.milvus_uri, "collection": name},
        redis={"url": status.redis_url, "enabled": not args.no_redis},
        encoder={"batch_size": args.batch_size},
        model={"model_dir": model.directory},
        worker={"batch_max_size": args.batch_size, "batch_timeout_s": 0.5, "summary_interval_s": 3600},
    )
    publish_values(settings, [(item["listing_id"], orjson.dumps(item)) for item in listings])
    with open_runtime(settings, model) as runtime:
        worker = runtime.worker()
        started = time.perf_counter()
        metrics = worker.run(max_events=len(listings), until_idle=60)
        elapsed = time.perf_counter() - started
    return {
        "worker_events_per_s": round(metrics.processed / elapsed, 1),
        "worker_seconds": round(elapsed, 2),
        "duplicate_events": metrics.duplicates,
        "batches": metrics.batches,
        "stage_seconds": {stage: round(spent, 2) for stage, spent in sorted(metrics.stage_seconds.items())},
        "encode_titles_per_s_in_worker": round(metrics.processed / metrics.stage_seconds.get("encode", float("inf")), 1),
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
