"""Encodes the index benchmark's listings once: the worker's own vectors, cached in resumable chunks.

    nice -n 19 env OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.index.build_cache \
        --listings 1000000 --threads 1 2>>/tmp/index-cache.log

The vectors are what the worker upserts (``ModelBundle.embed`` of ``listing_text``: encoder + reducer),
from the baseline model ``dedup bench`` fits (fitted once into the cache's model/ folder) or ``--model``.
Run it again after an interruption: finished chunks are kept, the rest are encoded.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from benchmarks.index.cache import DEFAULT_CACHE, VectorCache
from benchmarks.index.sources import Entry, chunk_entries, iter_pending, plan_chunks, real_entries
from decider.bundle import ModelBundle

DATA_ROOT = Path(__file__).resolve().parents[3] / "shared" / "data"
BLOCK_SIZE = 50_000
ENCODE_STEP = 1_024  # texts per embed call: progress and memory stay even
SEED = 11

log = logging.getLogger("benchmarks.index.build_cache")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"cache folder (default {DEFAULT_CACHE})")
    parser.add_argument("--listings", type=int, default=1_000_000, help="vectors in the cache (default 1,000,000)")
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: fit the bench baseline)")
    parser.add_argument("--data", type=Path, default=DATA_ROOT, help=f"shared data sets (default {DATA_ROOT})")
    parser.add_argument("--block-size", type=int, default=BLOCK_SIZE, help="listings per synthetic chunk")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    return parser.parse_args(argv)


def load_model(model_dir: Path | None, cache: Path, seed: int) -> ModelBundle:
    """``--model``, else the cache's own baseline (fitted by ``dedup bench``'s recipe the first time)."""
    from stream.benchmark.catalog import bench_model
    from stream.settings import Settings

    settings = Settings()
    if model_dir is None and (cache / "model" / "model.json").is_file():
        model_dir = cache / "model"
    return bench_model(settings, model_dir, cache, seed)


def encode(model: ModelBundle, entries: list[Entry], progress: tqdm) -> np.ndarray:
    parts = []
    for start in range(0, len(entries), ENCODE_STEP):
        step = entries[start : start + ENCODE_STEP]
        parts.append(model.embed([entry.text for entry in step]).astype(np.float32))
        progress.update(len(step))
    return np.concatenate(parts) if parts else np.zeros((0, model.reducer.dim), dtype=np.float32)


def build(args: argparse.Namespace) -> None:
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    args.cache.mkdir(parents=True, exist_ok=True)
    model = load_model(args.model, args.cache, args.seed)
    real = real_entries(args.data)
    specs = plan_chunks(args.listings, len(real), args.block_size)
    cache = VectorCache(args.cache)
    cache.start(
        {
            "listings": args.listings,
            "real_listings": specs[0].size,
            "block_size": args.block_size,
            "seed": args.seed,
            "embedding_version": model.embedding_version,
            "dim": model.reducer.dim,
        }
    )
    done = cache.done()
    finished = sum(spec.size for spec in specs if spec.index in done)
    log.info("%d chunks, %d done (%d vectors); real listings %d", len(specs), len(done), finished, specs[0].size)
    with tqdm(total=args.listings, initial=finished, unit="vec", mininterval=30, file=sys.stderr) as progress:
        for spec in iter_pending(specs, done):
            began = time.perf_counter()
            entries = chunk_entries(spec, real, args.seed)
            vectors = encode(model, entries, progress)
            cache.write_chunk(spec.index, [e.listing_id for e in entries], [e.group for e in entries], vectors)
            log.info("chunk %d: %d vectors in %.0f s", spec.index, len(entries), time.perf_counter() - began)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    build(parse_args(sys.argv[1:] if argv is None else argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
