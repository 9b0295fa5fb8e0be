"""Throughput of TextEncoder on listing titles, plus the cost of the PCA 384->128 projection.

    python benchmarks/bench_text_encoder.py [--n 2000] [--batch-size 64] [--repeats 3] [--synthetic]

Prints one JSON object on stdout. Titles come from the labeled sets in ``../shared/data``
(wdc-products and abt-buy, interleaved so both title styles are present), or from a seeded
generator with ``--synthetic`` where that folder is absent. One untimed pass warms up first.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field
from pydantic.dataclasses import dataclass

from encoders.reducer import PcaReducer
from encoders.text import TextEncoder
from stream.commands.flags import add_flags, parsed

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"
TITLE_SETS = ("wdc-products", "abt-buy")
PCA_DIM = 128
PCA_TIMING_ROUNDS = 20


@dataclass(frozen=True)
class BenchOptions:
    n: int = Field(default=2_000, ge=1, description="titles per timed pass")
    batch_size: int = Field(default=64, ge=1)
    repeats: int = Field(default=3, ge=1, description="timed passes after the warm-up")
    max_length: int = Field(default=64, ge=1, description="tokens kept per title")
    device: str = Field(default="auto", description="auto, cpu, cuda or cuda:N")
    synthetic: bool = Field(default=False, description="generate titles instead of reading --data-dir")
    data_dir: Path = DEFAULT_DATA_DIR
    model_path: Path | None = Field(default=None, description="default: the bundled all-MiniLM-L6-v2")


def parse_args(argv: list[str] | None = None) -> BenchOptions:
    parser = argparse.ArgumentParser(description="Throughput of TextEncoder on listing titles.")
    add_flags(parser, BenchOptions)
    return parsed(BenchOptions, parser.parse_args(argv))


def dataset_titles(data_dir: Path, n: int) -> tuple[list[str], int]:
    """The first ``n`` titles of the sets taken in turn, cycled if ``n`` exceeds them; and the unique count."""
    per_set = [list(read_titles(data_dir / name / "listings.jsonl")) for name in TITLE_SETS]
    interleaved = [title for group in itertools.zip_longest(*per_set) for title in group if title is not None]
    if not interleaved:
        raise SystemExit(f"no titles found under {data_dir}; pass --data-dir or --synthetic")
    return list(itertools.islice(itertools.cycle(interleaved), n)), min(n, len(interleaved))


def read_titles(listings: Path) -> Iterator[str]:
    if not listings.is_file():
        raise SystemExit(f"{listings} not found; pass --data-dir <folder with {'/'.join(TITLE_SETS)}> or --synthetic")
    with listings.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)["title"]


def synthetic_titles(n: int, seed: int = 0) -> list[str]:
    """Product-like titles of 2 to 20 words, seeded so runs compare."""
    rng = np.random.default_rng(seed)
    brands = ["Samsung", "Sony", "LG", "Apple", "Seagate", "Kingston", "Logitech", "Bosch", "Canon", "Philips"]
    nouns = ["SSD", "TV", "headphones", "dishwasher", "laptop", "cable", "camera", "monitor", "router", "charger"]
    words = ["black", "pro", "wireless", "4K", "1TB", "USB-C", "edition", "2-pack", "refurbished", "HDR", "mini"]
    titles = []
    for _ in range(n):
        extra = rng.choice(words, size=rng.integers(0, 18)).tolist()
        model_number = f"{rng.choice(list('ABCDEFGHKMNSTX'))}{rng.integers(100, 99_999)}"
        titles.append(" ".join([str(rng.choice(brands)), str(rng.choice(nouns)), model_number, *extra]))
    return titles


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def pca_cost(embeddings: np.ndarray, source: str) -> dict[str, Any]:
    started = time.perf_counter()
    reducer = PcaReducer.fit(embeddings, dim=PCA_DIM, source=source)
    fit_seconds = time.perf_counter() - started
    reducer.transform(embeddings)  # warm-up: first call pays for page faults and BLAS setup
    rounds = [timed(lambda: reducer.transform(embeddings)) for _ in range(PCA_TIMING_ROUNDS)]
    return {
        "input_dim": reducer.input_dim,
        "dim": reducer.dim,
        "fit_s": round(fit_seconds, 4),
        "transform_ms_per_1k": round(statistics.median(rounds) / len(embeddings) * 1_000 * 1_000, 4),
        "fitted_on": reducer.fitted_on,
    }


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def run(options: BenchOptions) -> dict[str, Any]:
    if options.synthetic:
        titles, unique = synthetic_titles(options.n), options.n
    else:
        titles, unique = dataset_titles(options.data_dir, options.n)
    encoder = TextEncoder(options.model_path, device=options.device, batch_size=options.batch_size, max_length=options.max_length)
    embeddings = encoder.encode(titles)  # warm-up pass, untimed
    seconds = [timed(lambda: encoder.encode(titles)) for _ in range(options.repeats)]
    rates = [len(titles) / elapsed for elapsed in seconds]
    return {
        "benchmark": "text_encoder",
        "titles": "synthetic" if options.synthetic else "+".join(TITLE_SETS),
        "n": len(titles),
        "unique_titles": unique,
        "batch_size": options.batch_size,
        "max_length": options.max_length,
        "repeats": options.repeats,
        "titles_per_s": {
            "median": round(statistics.median(rates), 1),
            "min": round(min(rates), 1),
            "max": round(max(rates), 1),
        },
        "seconds_per_pass": [round(elapsed, 4) for elapsed in seconds],
        "device": str(encoder.device),
        "device_name": device_name(encoder.device),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "model": encoder.name,
        "model_version": encoder.version,
        "pca": pca_cost(embeddings, encoder.version),
    }


def main(argv: list[str] | None = None) -> None:
    result = run(parse_args(argv))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
