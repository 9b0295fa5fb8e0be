"""Throughput of the pair cross-encoder (decider.models.cross_encoder) on labeled listing pairs.

    python benchmarks/bench_cross_encoder.py [--data abt-buy] [--n 256] [--batch-size 32] [--repeats 2]
                                             [--model-path DIR]

Prints one JSON object on stdout: pairs/s on the CPU (fp32) and, where CUDA is available, on the
GPU (bf16 autocast). Pairs are the first ``n`` of the set's valid split, as the cross-encoder reads
them (``listing_text`` of both sides). The model is the packaged MiniLM with an untrained one-logit
head unless ``--model-path`` names a trained cross-encoder (a model folder's ``cross-encoder/``):
the speed is the same, only the scores differ. One untimed pass warms up first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
import transformers
from pydantic import Field
from pydantic.dataclasses import dataclass

from decider.datasets.labeled import load_dataset
from decider.models.cross_encoder import CrossEncoder
from encoders.listing import listing_text
from encoders.text import default_text_model_path
from stream.commands.flags import add_flags, parsed

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class BenchOptions:
    data: str = Field(default="abt-buy", description="labeled set under --data-dir whose valid pairs are scored")
    n: int = Field(default=256, ge=1, description="pairs per timed pass")
    batch_size: int = Field(default=32, ge=1)
    repeats: int = Field(default=2, ge=1, description="timed passes after the warm-up")
    data_dir: Path = DEFAULT_DATA_DIR
    model_path: Path | None = Field(default=None, description="default: the packaged all-MiniLM-L6-v2")


def parse_args(argv: list[str] | None = None) -> BenchOptions:
    parser = argparse.ArgumentParser(description="Throughput of the pair cross-encoder.")
    add_flags(parser, BenchOptions)
    return parsed(BenchOptions, parser.parse_args(argv))


def pair_texts(options: BenchOptions) -> tuple[list[str], list[str]]:
    dataset = load_dataset(options.data_dir / options.data)
    pairs = dataset.pairs("valid")[: options.n]
    left = [listing_text(dataset.listings[pair.left_id]) for pair in pairs]
    right = [listing_text(dataset.listings[pair.right_id]) for pair in pairs]
    return left, right


def measure(model_path: Path, device: str, texts: tuple[list[str], list[str]], options: BenchOptions) -> dict[str, Any]:
    transformers.logging.set_verbosity_error()  # an untrained head's "newly initialized" warning
    cross_encoder = CrossEncoder(model_path, device=device, batch_size=options.batch_size)
    cross_encoder.score(*texts)  # warm-up, untimed
    seconds = []
    for _ in range(options.repeats):
        started = time.perf_counter()
        cross_encoder.score(*texts)
        if cross_encoder.device.type == "cuda":
            torch.cuda.synchronize(cross_encoder.device)
        seconds.append(time.perf_counter() - started)
    rates = [len(texts[0]) / elapsed for elapsed in seconds]
    name = torch.cuda.get_device_name(cross_encoder.device) if cross_encoder.device.type == "cuda" else None
    return {
        "pairs_per_s": round(statistics.median(rates), 1),
        "min": round(min(rates), 1),
        "max": round(max(rates), 1),
        "precision": "bf16 autocast" if cross_encoder.device.type == "cuda" else "fp32",
        "device_name": name or platform.processor() or platform.machine(),
    }


def run(options: BenchOptions) -> dict[str, Any]:
    texts = pair_texts(options)
    model_path = options.model_path or default_text_model_path()
    result: dict[str, Any] = {
        "benchmark": "cross_encoder",
        "data": f"{options.data}/valid",
        "pairs": len(texts[0]),
        "batch_size": options.batch_size,
        "repeats": options.repeats,
        "model_path": str(model_path),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "cpu": measure(model_path, "cpu", texts, options),
    }
    if torch.cuda.is_available():
        result["cuda"] = measure(model_path, "cuda", texts, options)
    return result


def main(argv: list[str] | None = None) -> None:
    json.dump(run(parse_args(argv)), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
