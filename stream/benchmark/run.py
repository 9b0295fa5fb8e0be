"""``dedup bench`` end to end: one generated catalog, the embedded stack, four measurements.

Order: the worker first, cold like in production (the memory before its first event is then the
worker's own), the latency part on the same warm worker, then the bare encoders on the same
micro-batches with the stack still up (the same machine, the same background load).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from confluent_kafka import Producer
from tqdm import tqdm

from decider.bundle import ModelBundle
from encoders.listing import listing_text
from infra.stack.local import embedded_stack
from stream.benchmark import encoder, stats
from stream.benchmark.catalog import BenchCatalog, bench_catalog, bench_model, bench_settings, keyed
from stream.benchmark.errors import BenchError
from stream.benchmark.latency import LATENCY_BASIS, PacedPublisher, Pacer, latencies_s
from stream.benchmark.observe import BatchLog, ObservedWorker
from stream.kafka import producer_config
from stream.publish import publish_values
from stream.settings import Settings
from stream.worker.runtime import Runtime, open_runtime

log = logging.getLogger(__name__)
UNTIL_IDLE_S = 60.0  # a listing that never arrives ends the phase instead of hanging it


@dataclass(frozen=True)
class BenchPlan:
    listings: int
    latency_listings: int
    load: float  # offered load of the latency part, as a share of the measured events/s
    seed: int
    model_dir: Path | None
    milvus_uri: str | None = None  # a server instead of the stack's Milvus Lite file


def run_bench(plan: BenchPlan, base: Settings) -> dict[str, Any]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as folder:
        model = bench_model(base, plan.model_dir, Path(folder), plan.seed)
        catalog = bench_catalog(plan.listings, plan.latency_listings, plan.seed)
        with embedded_stack() as status:
            settings = bench_settings(base, status, model, plan.milvus_uri)
            with open_runtime(settings, model) as runtime:
                figures = measure(runtime, catalog, plan)
    figures["wall_s"] = round(time.monotonic() - started, 1)
    figures["model"] = str(plan.model_dir) if plan.model_dir else "baseline fitted on a generated catalog"
    figures["milvus"] = "server" if plan.milvus_uri else "lite (embedded, in the worker's process)"
    return figures


def measure(runtime: Runtime, catalog: BenchCatalog, plan: BenchPlan) -> dict[str, Any]:
    settings = runtime.settings
    publish_values(settings, keyed(catalog.throughput))
    rss_before = stats.rss_mb()
    throughput = throughput_phase(runtime, len(catalog.throughput))
    offered = throughput["worker_events_per_s"] * plan.load
    latency = latency_phase(runtime, catalog.latency, offered)
    peak = stats.peak_rss_mb()
    batch_size = settings.worker.batch_max_size
    titles = encoder_phase(runtime.model, [listing_text(listing) for listing in catalog.throughput], batch_size)
    return {
        "listings": len(catalog.throughput),
        "latency_listings": len(catalog.latency),
        "batch_size": batch_size,
        "batch_timeout_s": settings.worker.batch_timeout_s,
        "batch_linger_ms": settings.worker.batch_linger_ms,
        "pipelined": runtime.pipelined(),
        "encoder_titles_per_s": round(titles, 1),
        "image_images_per_s": _rounded(encoder.images_per_s(runtime.model, batch_size)),
        **throughput,
        "ratio": stats.ratio(throughput["worker_events_per_s"], titles),
        **latency,
        "peak_rss_mb": peak,
        "rss_before_mb": rss_before,
        "machine": stats.machine(str(runtime.model.encoder.device), torch.get_num_threads()),
        "model_version": runtime.model.version,
    }


def throughput_phase(runtime: Runtime, count: int) -> dict[str, Any]:
    """The catalog's first part, published up front: the worker as fast as it goes."""
    with tqdm(total=count, desc="worker", unit="event") as bar:
        batches = BatchLog(on_committed=bar.update)
        metrics = ObservedWorker(runtime, batches).run(max_events=count, until_idle=UNTIL_IDLE_S)
    elapsed = batches.elapsed_s()
    events_per_s = stats.rate(sum(batches.sizes), elapsed)
    if events_per_s is None:
        raise BenchError(f"the worker processed none of the {count} listings published up front")
    return {
        "worker_events_per_s": events_per_s,
        "worker_seconds": round(elapsed or 0.0, 2),
        "duplicate_events": metrics.duplicates,
        "stage_share": stats.stage_shares(metrics.stage_seconds, elapsed or 0.0),
        "stage_seconds": {stage: round(spent, 2) for stage, spent in sorted(metrics.stage_seconds.items())},
        "batch_sizes": stats.batch_size_summary(batches.sizes),
    }


def latency_phase(runtime: Runtime, listings: list[dict[str, Any]], offered_per_s: float) -> dict[str, Any]:
    """The second part at ``offered_per_s``, each listing timed from its publish to its outcome."""
    producer = Producer(producer_config(runtime.settings.kafka.client_config()))
    with tqdm(total=len(listings), desc="latency", unit="event") as bar:
        batches = BatchLog(on_committed=bar.update)
        worker = ObservedWorker(runtime, batches)
        publisher = PacedPublisher(
            producer,
            runtime.settings.topics.listings,
            listings,
            Pacer(offered_per_s),
            ready=worker.polling_idle,
            stop=worker.stop,
        )
        publisher.start()
        try:
            metrics = worker.run(max_events=len(listings), until_idle=UNTIL_IDLE_S)
        finally:
            worker.stop.set()
            publisher.join()
            producer.purge()  # only what a failed run left unsent; close() would wait for it without a deadline
            producer.close()
    every, duplicates, missing = latencies_s(publisher.published_at, batches.duplicate_at, batches.committed_at)
    return {
        "offered_load_per_s": round(offered_per_s, 1),
        "achieved_load_per_s": _rounded(publisher.achieved_per_s),
        "latency_ms": stats.percentiles_ms(every),
        "latency_duplicates_ms": {"count": len(duplicates), **stats.percentiles_ms(duplicates)},
        "latency_unobserved": missing,
        "latency_basis": LATENCY_BASIS,
        "latency_batch_sizes": stats.batch_size_summary(batches.sizes),
        "latency_stage_seconds": {stage: round(spent, 2) for stage, spent in sorted(metrics.stage_seconds.items())},
    }


def encoder_phase(model: ModelBundle, texts: list[str], batch_size: int) -> float:
    with tqdm(total=len(texts), desc="encoder", unit="title") as bar:
        return encoder.titles_per_s(model, texts, batch_size, on_batch=bar.update)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
