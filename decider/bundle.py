"""A model folder: text encoder reference, 128-d reducer and decider, versioned together.

``MODEL_DIR`` is what ``dedup run --model`` loads and what ``dedup train`` / ``dedup demo`` write:

    model.json            format, kinds and versions, and which text encoder the reducer was fitted on
    reducer.npz           the reducer's mean and components (encoders.reducer)
    reducer.json          the reducer's kind, source encoder, shape and version
    decider.json          the decider's kind, parameters, threshold and version
    decider-model.pkl     gradient-boosting decider only: its fitted trees and calibration
    known-products.npz    gradient-boosting decider only, when trained with known products
    text-encoder/         optional: a fine-tuned encoder (with finetune.json); otherwise the configured one
    image-encoder/        optional: a `dedup train-image` folder (MAE ViT + its 128-d reducer); photos are
                          then embedded, stored and compared; without it they give perceptual hashes only
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decider.errors import DeciderError, ModelError
from decider.models.banded import BandedDecider
from decider.models.base import Decider
from decider.models.gradient_boosting import GradientBoostingDecider
from decider.models.threshold import ThresholdDecider
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder

if TYPE_CHECKING:
    from PIL import Image

    from encoders.images.encoder import ImageEncoder

MODEL_FILE = "model.json"
ENCODER_FOLDER = "text-encoder"
IMAGE_ENCODER_FOLDER = "image-encoder"
FORMAT_VERSION = 1
DECIDER_KINDS: dict[str, type] = {
    "similarity-threshold": ThresholdDecider,
    "gradient-boosting": GradientBoostingDecider,
    "banded-cross-encoder": BandedDecider,
}


@dataclass
class ModelBundle:
    encoder: TextEncoder
    reducer: PcaReducer
    decider: Decider
    directory: Path | None = None
    images: "ImageEncoder | None" = None

    @property
    def embedding_version(self) -> str:
        """What a Milvus collection's vectors depend on: encoder weights, truncation, reducers."""
        text = f"{self.encoder.version}+len{self.encoder.max_length}+{self.reducer.version}"
        if self.images is None or self.images.reducer is None:
            return text
        return f"{text}+img:{self.images.version}+{self.images.reducer.version}"

    @property
    def version(self) -> str:
        """Everything a duplicate decision depends on; part of each event id."""
        return f"{self.embedding_version}+{self.decider.version}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.reducer.transform(self.encoder.encode(texts))

    def embed_photos(self, photos: Sequence["Image.Image"]) -> np.ndarray:
        """The photos' 128-d vectors (the image encoder's reducer); only when ``images`` is set."""
        if self.images is None:
            raise ModelError("this model has no image encoder: add one with `dedup train --image-model DIR`")
        return self.images.reduced(photos)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.reducer.save(directory)
        self.decider.save(directory)
        self._save_image_encoder(directory)
        manifest = {
            "format": FORMAT_VERSION,
            "text_encoder": {"name": self.encoder.name, "version": self.encoder.version},
            "reducer": {"version": self.reducer.version, "dim": self.reducer.dim},
            "decider": {"kind": _decider_kind(self.decider), "version": self.decider.version},
            "image_encoder": None if self.images is None else {"version": self.images.version},
            "embedding_version": self.embedding_version,
            "version": self.version,
        }
        (directory / MODEL_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
        self.directory = directory

    def _save_image_encoder(self, directory: Path) -> None:
        """Copies the image encoder's folder in, so that the model folder is complete on its own."""
        if self.images is None:
            return
        target = directory / IMAGE_ENCODER_FOLDER
        if Path(self.images.model_dir).resolve() != target.resolve():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(self.images.model_dir, target)

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        text_model_path: Path | None = None,
        device: str = "auto",
        batch_size: int = 64,
        max_length: int = 64,
        compile_model: bool = False,
    ) -> "ModelBundle":
        manifest = read_manifest(directory)
        encoder_path = directory / ENCODER_FOLDER if (directory / ENCODER_FOLDER).is_dir() else text_model_path
        encoder = TextEncoder(
            encoder_path, device=device, batch_size=batch_size, max_length=max_length, compile_model=compile_model
        )
        expected = manifest["text_encoder"]["version"]
        if encoder.version != expected:
            raise ModelError(
                f"model {directory} was built on text encoder {expected}, but {encoder.version} is configured;"
                " point DEDUP_ENCODER_TEXT_MODEL_PATH at the matching model or retrain"
            )
        reducer = PcaReducer.load(directory)
        reducer.check_source(encoder.version)
        decider = load_decider(directory, manifest["decider"]["kind"])
        images = load_image_encoder(directory, manifest, reducer.dim, device=device, compile_model=compile_model)
        return cls(encoder=encoder, reducer=reducer, decider=decider, directory=directory, images=images)


def load_image_encoder(
    directory: Path, manifest: dict[str, Any], dim: int, *, device: str, compile_model: bool = False
) -> "ImageEncoder | None":
    """The folder's image encoder, checked against the version the decider was trained with."""
    folder = directory / IMAGE_ENCODER_FOLDER
    expected = (manifest.get("image_encoder") or {}).get("version")
    if not folder.is_dir():
        if expected:
            raise ModelError(f"model {directory} was trained with image encoder {expected}, but {folder} is missing")
        return None
    from encoders.images.encoder import ImageEncoder  # torch + timm: only for models that have photos

    images = ImageEncoder.load(folder, device=device, compile_model=compile_model)
    if expected and images.version != expected:
        raise ModelError(f"{folder} holds image encoder {images.version}, the model was trained with {expected}")
    if images.reducer is None or images.reducer.dim != dim:
        found = None if images.reducer is None else images.reducer.dim
        raise ModelError(f"{folder}: the image reducer must give {dim}-d vectors like the text one, it gives {found}")
    return images


def read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MODEL_FILE
    if not path.is_file():
        raise ModelError(f"no model at {directory} ({MODEL_FILE} missing): run `dedup demo` or `dedup train`")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise ModelError(f"{path} has format {manifest.get('format')}, this release reads {FORMAT_VERSION}")
    return manifest


def load_decider(directory: Path, kind: str) -> Decider:
    decider_cls = DECIDER_KINDS.get(kind)
    if decider_cls is None:
        raise ModelError(f"unknown decider kind {kind!r} in {directory}; known: {sorted(DECIDER_KINDS)}")
    try:
        return decider_cls.load(directory)
    except DeciderError as exc:
        raise ModelError(str(exc)) from None


def _decider_kind(decider: Decider) -> str:
    for kind, decider_cls in DECIDER_KINDS.items():
        if isinstance(decider, decider_cls):
            return kind
    raise ModelError(f"cannot save a decider of type {type(decider).__name__}: register it in DECIDER_KINDS")
