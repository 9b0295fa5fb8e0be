"""``dedup bench``: the worker's throughput against the bare encoder, its latency at half load, its memory.

Light at import (the parser reads ``BenchOptions``); the measurement lives in stream.benchmark.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from pydantic import Field
from pydantic.dataclasses import dataclass

from stream.commands.exit_codes import EXIT_OK
from stream.settings import Settings

# The service flags that change what is measured; the stack's endpoints are the command's own.
BENCH_SERVICE_FLAGS = ("--batch-size", "--batch-timeout", "--device")
MIN_LATENCY_LISTINGS = 20


@dataclass(frozen=True)
class BenchOptions:
    listings: int = Field(default=2_000, ge=1, description="generated listings published up front (throughput)")
    latency_listings: int | None = Field(
        default=None, ge=1, description="listings then published at the offered load (default: a quarter of"
        f" --listings, at least {MIN_LATENCY_LISTINGS})",
    )  # fmt: skip
    load: float = Field(
        default=0.5, gt=0, lt=1, description="the offered load of the latency part, as a share of the measured events/s"
    )
    seed: int = Field(default=3, description="seed of the generated catalog")
    model: Path | None = Field(
        default=None, description="model folder (default: a baseline fitted on another generated catalog)"
    )
    milvus_uri: str | None = Field(
        default=None, description="a Milvus server (http://host:port) instead of the embedded Milvus Lite file"
    )
    json: bool = Field(default=False, description="print the figures as one JSON object")


def cmd_bench(options: BenchOptions, settings: Settings) -> int:
    from stream.benchmark.report import summary
    from stream.benchmark.run import BenchPlan, run_bench

    plan = BenchPlan(
        listings=options.listings,
        latency_listings=options.latency_listings or max(MIN_LATENCY_LISTINGS, options.listings // 4),
        load=options.load,
        seed=options.seed,
        model_dir=options.model,
        milvus_uri=options.milvus_uri,
    )
    figures = run_bench(plan, settings)
    print(orjson.dumps(figures).decode() if options.json else summary(figures))
    sys.stdout.flush()
    return EXIT_OK
