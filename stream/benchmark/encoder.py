"""The encoders alone, fed the micro-batches the worker feeds them (same texts, same order, same size)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
from PIL import Image

from decider.bundle import ModelBundle

IMAGE_SAMPLE = 128  # photos timed: speed does not depend on what they show
IMAGE_SIDE = 320  # larger than the encoder's input, so resizing and cropping are timed too
Item = TypeVar("Item")
Embed = Callable[[Sequence[Item]], object]


def chunks(items: Sequence[Item], size: int) -> list[Sequence[Item]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def titles_per_s(
    model: ModelBundle, texts: Sequence[str], batch_size: int, on_batch: Callable[[int], None] | None = None
) -> float:
    """``model.embed`` (encoder + reducer, the worker's encode stage) over the worker's micro-batches."""
    batches = chunks(texts, batch_size)
    model.embed(batches[0])  # warm-up: the first call pays for allocations the worker paid for long before
    return _timed(batches, model.embed, on_batch)


def images_per_s(model: ModelBundle, batch_size: int, sample: int = IMAGE_SAMPLE, seed: int = 0) -> float | None:
    """``model.embed_photos`` over random photos; None when the model has no image encoder."""
    if model.images is None:
        return None
    rng = np.random.default_rng(seed)
    photos = [
        Image.fromarray(rng.integers(0, 256, (IMAGE_SIDE, IMAGE_SIDE, 3), dtype=np.uint8)) for _ in range(sample)
    ]
    batches = chunks(photos, batch_size)
    model.embed_photos(batches[0])
    return _timed(batches, model.embed_photos, None)


def _timed(batches: list[Sequence[Item]], embed: Embed[Item], on_batch: Callable[[int], None] | None) -> float:
    started = time.perf_counter()
    for batch in batches:
        embed(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return sum(len(batch) for batch in batches) / (time.perf_counter() - started)
