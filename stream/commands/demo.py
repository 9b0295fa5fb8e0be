"""``dedup demo``: the whole pipeline on the embedded stack, scored against known duplicates."""

from __future__ import annotations

import hashlib
import logging
import random
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from decider.bundle import ModelBundle

if TYPE_CHECKING:
    from encoders.images.encoder import ImageEncoder
from decider.datasets.labeled import LabeledPair, load_dataset
from decider.datasets.listing_photos import has_photos, read_listing_photos
from decider.errors import DeciderError, ModelError
from decider.evaluation.metrics import pairwise_scores
from decider.evaluation.review import (
    ERROR_VERDICTS,
    REPORTED_DUPLICATE,
    review_pairs,
    worst,
    write_review,
)
from decider.pairs import CandidatePairs
from decider.synthetic.catalog import SyntheticCatalog
from decider.synthetic.coverage import blank_fields_to_coverage, field_coverage
from decider.synthetic.generator import generate_catalog
from decider.synthetic.packshots import plan_photos, set_image_paths, write_packshots
from decider.training.quick_models import fit_baseline_bundle, fit_trained_bundle
from encoders.errors import ReducerError
from encoders.product_groups import pairs_within_groups
from encoders.text import TextEncoder
from infra.stack.local import StackStatus, embedded_stack
from stream.commands.exit_codes import EXIT_OK
from stream.commands.options import DemoOptions
from stream.kafka import read_topic
from stream.publish import publish_values
from stream.settings import DEFAULT_STATE_DIR, Settings
from stream.worker.runtime import load_model, open_runtime

log = logging.getLogger(__name__)
CALIBRATION_SPLITS = ("valid", "train")
DEMO_INPUTS = "demo-inputs.json"  # what the demo's cached model was fitted on: another input refits it
DONE_MARKER = ".complete"  # written after the last photo: a folder without it is rendered again


@dataclass(frozen=True)
class DemoData:
    name: str
    listings: list[dict[str, Any]]
    truth: set[frozenset[str]]
    calibration_listings: Mapping[str, Mapping[str, Any]]
    calibration_pairs: Sequence[LabeledPair]
    calibration_source: str
    calibration_clusters: Mapping[str, str] | None = None
    calibration_catalog: Any = None  # a generated catalog to train the demo's decider on
    photos_root: Path | None = None  # where the listings' photos are (generated catalogs with photos)


def cmd_demo(options: DemoOptions, settings: Settings) -> int:
    started = time.monotonic()
    with embedded_stack(options.state_dir) as status:
        figures = demo_on_stack(options, settings, status)
    figures["wall_s"] = round(time.monotonic() - started, 1)
    print(orjson.dumps(figures).decode() if options.json else f"demo finished in {figures['wall_s']} s")
    return EXIT_OK


def demo_on_stack(
    options: DemoOptions, base: Settings, status: StackStatus, *, report: bool = True, pairs_out: Path | None = None
) -> dict[str, Any]:
    """The demo's figures; with ``report``, the pairs found and the scores are printed too.

    With ``pairs_out``, every reported pair and every missed known pair is written there with its verdict,
    and the ten most confident mistakes of each kind are printed to stderr.
    """
    data = load_demo_data(options)
    model = demo_model(options, base, data)
    run_id = uuid.uuid4().hex[:8]
    settings = demo_settings(base, status, run_id, model, data.photos_root)
    log.info("demo %s: %d listings from %s, model %s", run_id, len(data.listings), data.name, model.version)
    publish_values(settings, [(listing["listing_id"], orjson.dumps(listing)) for listing in data.listings])
    scored: dict[frozenset[str], float] = {}
    with open_runtime(settings, model) as runtime:
        runtime.pipeline.on_scored = lambda pairs, scores: record_scores(scored, pairs, scores)
        worker_started = time.monotonic()
        metrics = runtime.worker().run(max_events=len(data.listings), until_idle=60)
        worker_s = time.monotonic() - worker_started
        messages = read_topic(settings.kafka.client_config(), settings.topics.duplicates)
        events = [orjson.loads(message.value()) for message in messages]
        runtime.store.drop()  # demo runs are independent; the Milvus Lite file must not grow with each
    found = found_pairs(events)
    scores = pairwise_scores(found, data.truth)
    if report:
        print_report(data, events, scores, options.show)
        if data.photos_root is not None:
            embedded = "hashed and embedded" if model.images is not None else "hashed (no image encoder: --image-model)"
            print(f"photos from {data.photos_root}: {describe_photos(metrics.photos)}; {embedded}")
    review = write_pair_review(pairs_out, events, scored, data) if pairs_out is not None else {}
    return {
        "data": data.name,
        "listings": len(data.listings),
        "duplicate_events": len(events),
        "pairs_found": len(found),
        "true_pairs": len(data.truth),
        "candidate_recall": round(len(scored.keys() & data.truth) / len(data.truth), 4) if data.truth else None,
        **{key: round(value, 4) if isinstance(value, float) else value for key, value in scores.items()},
        "worker_events_per_s": round(metrics.processed / worker_s, 1) if worker_s else None,
        "photos": dict(metrics.photos),
        "model_version": model.version,
        "threshold": round(model.decider.threshold, 6),
        "calibrated_on": data.calibration_source,
        **review,
    }


def describe_photos(outcomes: Mapping[str, int]) -> str:
    failed = {reason: count for reason, count in outcomes.items() if reason != "loaded"}
    return f"{outcomes.get('loaded', 0)} loaded, {sum(failed.values())} failed" + (f" {failed}" if failed else "")


def record_scores(scored: dict[frozenset[str], float], pairs: CandidatePairs, scores: np.ndarray) -> None:
    """Each candidate pair's best score (a pair can be scored from both sides across batches)."""
    for query_id, candidate_id, score in zip(pairs.query_ids, pairs.candidate_ids, scores.tolist(), strict=True):
        pair = frozenset((query_id, candidate_id))
        scored[pair] = max(score, scored.get(pair, score))


def write_pair_review(
    path: Path, events: Sequence[Mapping[str, Any]], scored: Mapping[frozenset[str], float], data: DemoData
) -> dict[str, Any]:
    """The per-pair verdicts as CSV; the worst mistakes of each kind on stderr; their counts for the report."""
    reported = {
        frozenset((event["listing_id"], match["listing_id"])): match["score"]
        for event in events
        for match in event["matches"]
    }
    titles = {listing["listing_id"]: listing["title"] for listing in data.listings}
    rows = review_pairs(reported, scored, data.truth, titles)
    write_review(path, rows)
    for verdict in ERROR_VERDICTS:
        shown = worst(rows, verdict)
        count = sum(row.verdict == verdict for row in rows)
        print(f"\n{verdict}: {count} pairs; the {len(shown)} worst:", file=sys.stderr)
        for row in shown:
            score = "  -  " if row.score is None else f"{row.score:.3f}"
            print(f"  {score}  {_clip(row.first_title)}  ==  {_clip(row.second_title)}", file=sys.stderr)
    counts = {verdict: sum(row.verdict == verdict for row in rows) for verdict in (REPORTED_DUPLICATE, *ERROR_VERDICTS)}
    return {"pairs_out": str(path), "verdicts": counts}


def load_demo_data(options: DemoOptions) -> DemoData:
    if options.data is None:
        catalog = generate_catalog(n_products=options.products, seed=options.seed)
        calibration = generate_catalog(n_products=max(options.products, 300), seed=options.seed + 1_000)
        photos_root = render_photos(options, catalog, calibration) if options.photos else None
        return DemoData(
            name=f"generated catalog ({options.products} products, seed {options.seed})",
            listings=list(catalog.listings),
            truth=pairs_within_groups(catalog.truth),
            calibration_listings={listing["listing_id"]: listing for listing in calibration.listings},
            calibration_pairs=calibration.pairs(),
            calibration_source=f"generated catalog, seed {options.seed + 1_000}",
            calibration_clusters=calibration.truth,
            calibration_catalog=calibration,
            photos_root=photos_root,
        )
    dataset = load_dataset(options.data)
    listings = list(dataset.listings.values())
    random.Random(options.seed).shuffle(listings)  # a live feed has no order that helps the matcher
    split = next((name for name in CALIBRATION_SPLITS if name in dataset.splits()), None)
    calibration = None
    if split is not None:
        calibration_listings, calibration_pairs = dataset.listings, dataset.pairs(split)
        source = f"{dataset.name} pairs/{split}.csv"
    else:
        calibration = generate_catalog(n_products=500, seed=options.seed + 1_000)
        # The decider learns from generated listings with the fields this catalog lacks missing as often.
        blank_fields_to_coverage(calibration.listings, field_coverage(listings), seed=options.seed)
        calibration_listings = {listing["listing_id"]: listing for listing in calibration.listings}
        calibration_pairs = calibration.pairs()
        source = f"generated catalog, seed {options.seed + 1_000}, fields as often missing as in {dataset.name}"
    return DemoData(
        dataset.name,
        listings,
        dataset.duplicate_pairs(),
        calibration_listings,
        calibration_pairs,
        source,
        calibration.truth if calibration is not None else None,
        calibration_catalog=calibration,
        photos_root=options.data if has_photos(dataset.listings) else None,
    )


def render_photos(options: DemoOptions, catalog: SyntheticCatalog, calibration: SyntheticCatalog) -> Path:
    """Packshots for both generated catalogs (kept for the next run of the same catalog); the photos root.

    The calibration catalog's listings get their photos' perceptual hashes, which the demo's decider learns from.
    """
    root = demo_home(options) / "photos" / f"p{options.products}-s{options.seed}"
    for name, generated in (("catalog", catalog), ("calibration", calibration)):
        folder = root / name
        if (folder / DONE_MARKER).is_file():
            set_image_paths(generated, plan_photos(generated))
        else:
            write_packshots(generated, folder, overwrite=True)
            (folder / DONE_MARKER).touch()
        for listing in generated.listings:
            if listing["image"]:
                listing["image"] = f"{name}/{listing['image']}"
    return root


def demo_model(options: DemoOptions, settings: Settings, data: DemoData) -> ModelBundle:
    """The model folder given with --model, else one fitted for this data and kept for next time."""
    encoder_settings = settings.encoder
    if options.model is not None:
        return load_model(settings, options.model)
    model_dir = demo_model_dir(options, data)
    inputs = orjson.dumps(
        {
            "calibrated_on": data.calibration_source,
            "photos": data.photos_root is not None,
            "image_model": str(options.image_model) if options.image_model else None,
        }
    )
    if (model_dir / "model.json").is_file() and _read_bytes(model_dir / DEMO_INPUTS) == inputs:
        try:
            return load_model(settings, model_dir)
        except (DeciderError, ModelError, ReducerError) as exc:
            # The demo's own cache, e.g. written by a release with other features: fit it again.
            log.warning("refitting the demo model: the one in %s does not load (%s)", model_dir, exc)
    encoder = TextEncoder(
        encoder_settings.text_model_path, device=encoder_settings.device, batch_size=encoder_settings.batch_size
    )
    sample = {listing["listing_id"]: listing for listing in data.listings}
    sample.update(data.calibration_listings)
    if data.calibration_catalog is not None:
        log.info("fitting the reducer and training a decider on %s (no fine-tuning)", data.calibration_source)
        images, photo_vectors = calibration_photos(options, data, settings)
        model = fit_trained_bundle(
            encoder, sample, data.calibration_catalog, photo_vectors=photo_vectors, images=images
        )
    else:
        log.info("fitting the reducer and calibrating the baseline decider on %s", data.calibration_source)
        model = fit_baseline_bundle(encoder, sample, data.calibration_pairs, clusters=data.calibration_clusters)
    model.save(model_dir)
    (model_dir / DEMO_INPUTS).write_bytes(inputs)
    print(f"model saved to {model_dir} (use it with `dedup run --model {model_dir}`)")
    return model


def calibration_photos(
    options: DemoOptions, data: DemoData, settings: Settings
) -> tuple[ImageEncoder | None, dict[str, np.ndarray]]:
    """The calibration listings' photo hashes (set in place) and, with --image-model, their photo vectors."""
    if data.photos_root is None:
        return None, {}
    images = None
    if options.image_model is not None:
        from encoders.images.encoder import ImageEncoder

        images = ImageEncoder.load(options.image_model, device=settings.encoder.device)
    listings = {listing["listing_id"]: listing for listing in data.calibration_catalog.listings}
    found = read_listing_photos(listings, data.photos_root, images.reduced if images is not None else None)
    return images, found.vectors


def _read_bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def demo_model_dir(options: DemoOptions, data: DemoData) -> Path:
    """The generated catalog's model doubles as the default model, so `dedup run` works after `make demo`."""
    if options.data is None:
        return demo_home(options) / "model"
    key = hashlib.sha256(f"{data.name}|{data.calibration_source}".encode()).hexdigest()[:10]
    return demo_home(options) / "models" / f"demo-{key}"


def demo_home(options: DemoOptions) -> Path:
    """Where fitted models and rendered photos are kept for the next run: --state-dir, else .dedup
    (the stack itself then runs in a temporary folder, which must not take them along)."""
    return options.state_dir or DEFAULT_STATE_DIR


def demo_settings(
    base: Settings, status: StackStatus, run_id: str, model: ModelBundle, photos_root: Path | None = None
) -> Settings:
    prefix = f"demo.{run_id}"
    return Settings(
        kafka={
            "bootstrap_servers": status.kafka_bootstrap,
            "group_id": f"dedup-demo-{run_id}",
            "session_timeout_ms": 6_000,
        },
        topics={
            "listings": f"{prefix}.listings.created",
            "duplicates": f"{prefix}.listings.duplicates",
            "dlq": f"{prefix}.listings.dlq",
        },
        milvus={
            "uri": status.milvus_uri,
            "collection": f"demo_{run_id}",
            "candidates": base.milvus.candidates,
            "lexical_candidates": base.milvus.lexical_candidates,
            "group_candidates": base.milvus.group_candidates,
        },
        redis={"url": status.redis_url},
        encoder=base.encoder.model_dump(),
        # A data set's photo paths are relative to its folder unless DEDUP_PHOTOS_ROOT says otherwise.
        photos=(
            {**base.photos.model_dump(), "root": base.photos.root or photos_root} if photos_root else {"enabled": False}
        ),
        model={"model_dir": model.directory},
        worker=base.worker.model_dump(),
    )


def found_pairs(events: Sequence[Mapping[str, Any]]) -> set[frozenset[str]]:
    return {frozenset((event["listing_id"], match["listing_id"])) for event in events for match in event["matches"]}


def print_report(data: DemoData, events: Sequence[Mapping[str, Any]], scores: Mapping[str, Any], show: int) -> None:
    titles = {listing["listing_id"]: listing["title"] for listing in data.listings}
    rows = sorted(
        ((match["score"], event["listing_id"], match["listing_id"]) for event in events for match in event["matches"]),
        reverse=True,
    )
    print(f"\nduplicates found ({len(rows)} pairs; showing {min(show, len(rows))}):")
    for score, new_id, old_id in rows[:show]:
        mark = "ok " if frozenset((new_id, old_id)) in data.truth else "NO "
        print(f"  {mark}{score:.3f}  {_clip(titles.get(new_id, new_id))}  ==  {_clip(titles.get(old_id, old_id))}")
    print(
        f"\nagainst {len(data.truth)} known duplicate pairs: precision {scores['precision']:.3f}  "
        f"recall {scores['recall']:.3f}  F1 {scores['f1']:.3f}"
    )


def _clip(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
