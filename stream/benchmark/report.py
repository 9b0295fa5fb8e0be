"""What ``dedup bench`` prints: the keys every JSON report has, and the short human summary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REQUIRED_KEYS = (
    "listings",
    "batch_size",
    "encoder_titles_per_s",
    "image_images_per_s",
    "worker_events_per_s",
    "ratio",
    "stage_share",
    "batch_sizes",
    "offered_load_per_s",
    "latency_ms",
    "latency_basis",
    "peak_rss_mb",
    "rss_before_mb",
    "machine",
)
SHOWN_STAGES = 4


def missing_keys(figures: Mapping[str, Any]) -> list[str]:
    return [key for key in REQUIRED_KEYS if key not in figures]


def summary(figures: Mapping[str, Any]) -> str:
    machine = figures["machine"]
    batches = figures["batch_sizes"]
    latency = figures["latency_ms"]
    stages = ", ".join(
        f"{stage} {share * 100:.0f} %" for stage, share in list(figures["stage_share"].items())[:SHOWN_STAGES]
    )
    images = figures["image_images_per_s"]
    return "\n".join([
        f"dedup bench: {figures['listings']} listings + {figures['latency_listings']} paced, micro-batch"
        f" {figures['batch_size']}, {machine['device']}, {machine['torch_threads']} torch threads,"
        f" {machine['cpu_count']} CPUs",
        f"  encoder   {figures['encoder_titles_per_s']} titles/s"
        + (f", images {images}/s" if images is not None else ""),
        f"  worker    {figures['worker_events_per_s']} events/s, ratio {figures['ratio']}",
        f"  stages    {stages}",
        f"  batches   mean {batches['mean']}, p50 {batches['p50']}, max {batches['max']}",
        f"  latency   at {figures['offered_load_per_s']}/s offered: p50 {latency['p50']} ms, p95 {latency['p95']} ms,"
        f" p99 {latency['p99']} ms",
        f"  memory    {figures['rss_before_mb']} MB before the first event, peak {figures['peak_rss_mb']} MB",
    ])
