"""What ``dedup bench`` runs on: one generated catalog in two parts, and a model fitted apart from it."""

from __future__ import annotations

import math
import multiprocessing
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from decider.bundle import ModelBundle
from infra.stack.local import StackStatus
from stream.benchmark.errors import BenchError
from stream.settings import Settings
from stream.worker.runtime import load_model

LISTINGS_PER_PRODUCT = 1.4  # the generator makes about 1.5; asking for a little more leaves enough
CALIBRATION_PRODUCTS = 400
CALIBRATION_SEED_OFFSET = 1_000  # the model never sees the catalog it is measured on


@dataclass(frozen=True)
class BenchCatalog:
    throughput: list[dict[str, Any]]  # published up front: the worker's maximum rate
    latency: list[dict[str, Any]]  # published afterwards at the offered load


def bench_catalog(listings: int, latency_listings: int, seed: int) -> BenchCatalog:
    from decider.synthetic.generator import generate_catalog

    wanted = listings + latency_listings
    generated = generate_catalog(n_products=math.ceil(wanted / LISTINGS_PER_PRODUCT) + 5, seed=seed).listings
    if len(generated) < wanted:
        raise BenchError(f"the generator made {len(generated)} listings, {wanted} were asked for")
    return BenchCatalog(list(generated[:listings]), list(generated[listings:wanted]))


def bench_model(settings: Settings, model_dir: Path | None, folder: Path, seed: int) -> ModelBundle:
    """``model_dir``, else a baseline fitted in a child process: the fit's memory is not the worker's."""
    if model_dir is None:
        model_dir = folder / "model"
        child = multiprocessing.get_context("spawn").Process(
            target=fit_baseline, args=(settings.encoder.model_dump(), model_dir, seed + CALIBRATION_SEED_OFFSET)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise BenchError(f"fitting the benchmark's baseline model failed (exit code {child.exitcode})")
    return load_model(settings, model_dir)


def fit_baseline(encoder_settings: dict[str, Any], model_dir: Path, seed: int) -> None:
    """In the child: the packaged encoder, a reducer and threshold decider fitted on another generated catalog."""
    from decider.synthetic.generator import generate_catalog
    from decider.training.quick_models import fit_baseline_bundle
    from encoders.text import TextEncoder

    encoder = TextEncoder(
        encoder_settings["text_model_path"],
        device=encoder_settings["device"],
        batch_size=encoder_settings["batch_size"],
        max_length=encoder_settings["max_length"],
    )
    calibration = generate_catalog(n_products=CALIBRATION_PRODUCTS, seed=seed)
    model = fit_baseline_bundle(
        encoder,
        {listing["listing_id"]: listing for listing in calibration.listings},
        calibration.pairs(),
        clusters=calibration.truth,
    )
    model.save(model_dir)


def bench_settings(base: Settings, status: StackStatus, model: ModelBundle, milvus_uri: str | None = None) -> Settings:
    """The stack's endpoints, fresh topics, group and collection; encoder and worker settings as configured."""
    run_id = uuid.uuid4().hex[:8]
    prefix = f"bench.{run_id}"
    return Settings(
        kafka={
            "bootstrap_servers": status.kafka_bootstrap,
            "group_id": f"dedup-bench-{run_id}",
            "session_timeout_ms": 6_000,
        },
        topics={
            "listings": f"{prefix}.listings.created",
            "duplicates": f"{prefix}.listings.duplicates",
            "dlq": f"{prefix}.listings.dlq",
            "partitions": base.topics.partitions,
        },
        milvus={
            **base.milvus.model_dump(exclude={"uri", "collection", "token"}),
            "uri": milvus_uri or status.milvus_uri,
            "collection": f"bench_{run_id}",
        },
        redis={**base.redis.model_dump(exclude={"url"}), "url": status.redis_url},
        encoder=base.encoder.model_dump(),
        photos={"enabled": False},  # generated listings have no photos the worker could read
        model={"model_dir": model.directory},
        worker=base.worker.model_dump(),
    )


def keyed(listings: Sequence[dict[str, Any]]) -> list[tuple[str, bytes]]:
    import orjson

    return [(listing["listing_id"], orjson.dumps(listing)) for listing in listings]
