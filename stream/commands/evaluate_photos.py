"""``dedup eval`` on a photo set: photo-to-photo duplicates by the image encoder, the perceptual hash and both.

Photos are read with PIL from the set's folder in batches of 32, hashed, and (with ``--image-model``)
encoded; the train split is measured too, because every threshold and weight is chosen there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson
from PIL import Image

from decider.datasets.labeled import DatasetError
from decider.datasets.photos import Photo, PhotoSet, load_photo_set
from decider.evaluation.photos import PhotoSignals, evaluate_photos, hashes_as_ints
from stream.commands.options import EvalOptions

BATCH_SIZE = 32
TRAIN_SPLIT = "train"
Hasher = Callable[[Image.Image], str]


class PhotoEncoder(Protocol):
    """What the evaluation needs of encoders.images.encoder.ImageEncoder."""

    version: str

    def encode(self, images: Sequence[Image.Image]) -> np.ndarray: ...


def run_photo_eval(
    options: EvalOptions, *, encoder: PhotoEncoder | None = None, hasher: Hasher | None = None
) -> dict[str, Any]:
    """The photo report of ``options.split``; ``encoder``/``hasher`` replace the ones the options name."""
    photo_set = load_photo_set(options.data)
    if options.split == TRAIN_SPLIT:
        raise DatasetError(f"{photo_set.name}: thresholds and weights are chosen on {TRAIN_SPLIT}; score another split")
    scored_photos, train_photos = photo_set.split(options.split), photo_set.split(TRAIN_SPLIT)
    if encoder is None and options.image_model is not None:
        from encoders.images.encoder import ImageEncoder

        encoder = ImageEncoder.load(options.image_model)
    if hasher is None:
        from encoders.images.phash import photo_phash

        hasher = photo_phash
    scored, scored_seconds = measure(photo_set, scored_photos, encoder, hasher)
    train, train_seconds = measure(photo_set, train_photos, encoder, hasher)
    report: dict[str, Any] = {"data": photo_set.name, "split": options.split, "kind": "photos"}
    report |= _encoder_figures(options.image_model, encoder, len(photo_set.photos), scored_seconds + train_seconds)
    return report | evaluate_photos(train, scored, seed=options.seed)


def measure(
    photo_set: PhotoSet, photos: Sequence[Photo], encoder: PhotoEncoder | None, hasher: Hasher
) -> tuple[PhotoSignals, float]:
    """The photos' hashes (and embeddings), and the seconds spent encoding."""
    hashes: list[str] = []
    embeddings: list[np.ndarray] = []
    seconds = 0.0
    for start in range(0, len(photos), BATCH_SIZE):
        images = [_read(photo_set.file(photo)) for photo in photos[start : start + BATCH_SIZE]]
        hashes.extend(hasher(image) for image in images)
        if encoder is not None:
            started = time.perf_counter()
            embeddings.append(np.asarray(encoder.encode(images), dtype=np.float32))
            seconds += time.perf_counter() - started
    signals = PhotoSignals(
        products=np.array([photo.product_id for photo in photos]),
        coarse=np.array([photo.coarse_id for photo in photos]),
        embeddings=np.concatenate(embeddings) if embeddings else None,
        hashes=hashes_as_ints(hashes),
    )
    return signals, seconds


def _read(path: Path) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert("RGB")  # decodes now, so the file closes here
    except OSError as exc:  # PIL's UnidentifiedImageError is an OSError too
        raise DatasetError(f"{path}: cannot read the photo: {exc}") from None


def _encoder_figures(
    model_dir: Path | None, encoder: PhotoEncoder | None, photos: int, seconds: float
) -> dict[str, Any]:
    if encoder is None:
        return {"image_model": None, "encoder": "not given (--image-model): perceptual hash only"}
    return {
        "image_model": None if model_dir is None else str(model_dir),
        "encoder": getattr(encoder, "version", type(encoder).__name__),
        "encoder_images_per_s": round(photos / seconds, 1) if seconds else None,
    }


def print_photo_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(orjson.dumps(report).decode())
        return
    pairs = report["pairs"]
    print(f"{report['data']} {report['split']}: {report['photos']} photos of {report['products']} products")
    print(f"encoder: {report['encoder']}")
    print(
        f"pairs: {pairs['positives']} same product, {pairs['hard_negatives']} hard negatives (same class);"
        f" calling all duplicates scores F1 {pairs['f1_if_all_duplicates']:.3f}"
    )
    columns = ("recall@1", "recall@5", "precision", "recall", "F1", "AP", "threshold")
    print(f"{'':10} " + " ".join(f"{column:>{max(len(column), 6)}}" for column in columns))
    for name in report["signals"]:
        found, f1 = report["retrieval"][name], report["pair_f1"][name]
        print(
            f"{name:10} {found['recall_at_1']:8.3f} {found['recall_at_5']:8.3f} {f1['precision']:9.3f} "
            f"{f1['recall']:6.3f} {f1['f1']:6.3f} {f1['average_precision']:6.3f} {f1['threshold']:9.3f}"
        )
    print(report["method"]["ties"])
