"""The figures ``dedup bench`` reports, computed from raw observations (pure functions, no services)."""

from __future__ import annotations

import os
import resource
from collections.abc import Mapping, Sequence

import numpy as np
import psutil

LATENCY_QUANTILES = (50, 95, 99)
OTHER_STAGE = "other"  # consuming, parsing, committing: wall time no pipeline stage accounts for


def percentiles_ms(seconds: Sequence[float], quantiles: Sequence[int] = LATENCY_QUANTILES) -> dict[str, float | None]:
    """``{"p50": ms, ...}`` by linear interpolation (numpy's default); None for each when nothing was measured."""
    if not seconds:
        return {f"p{q}": None for q in quantiles}
    values = np.percentile(np.asarray(seconds, dtype=np.float64) * 1_000.0, quantiles)
    return {f"p{q}": round(float(value), 1) for q, value in zip(quantiles, values, strict=True)}


def stage_shares(stage_seconds: Mapping[str, float], wall_s: float) -> dict[str, float]:
    """Each stage's share of the worker's wall time, largest first; the rest is ``other``.

    Shares of wall time (not of the stages' sum) show how far the encoder is from owning the worker.
    """
    if wall_s <= 0:
        return {}
    shares = {stage: spent / wall_s for stage, spent in stage_seconds.items() if spent > 0}
    shares[OTHER_STAGE] = max(1.0 - sum(shares.values()), 0.0)
    return {stage: round(share, 3) for stage, share in sorted(shares.items(), key=lambda item: -item[1])}


def batch_size_summary(sizes: Sequence[int]) -> dict[str, float | int | None]:
    if not sizes:
        return {"count": 0, "mean": None, "p50": None, "max": None}
    return {
        "count": len(sizes),
        "mean": round(float(np.mean(sizes)), 1),
        "p50": round(float(np.median(sizes)), 1),
        "max": int(max(sizes)),
    }


def rate(count: int, seconds: float | None) -> float | None:
    return round(count / seconds, 1) if seconds and seconds > 0 else None


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def rss_mb() -> float:
    """This process's resident memory now (Milvus Lite, tansu and redis-server are other processes)."""
    return round(psutil.Process().memory_info().rss / 2**20, 1)


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (``ru_maxrss`` is in KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def machine(device: str, torch_threads: int) -> dict[str, object]:
    return {"cpu_count": os.cpu_count(), "torch_threads": torch_threads, "device": device}
