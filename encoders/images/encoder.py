"""Photo embeddings from a local timm Vision Transformer folder, optionally reduced to 128-d.

A folder holds ``image-encoder.json`` (architecture, input size, normalisation, pooling),
``model.safetensors`` (the ViT's weights) and, when ``dedup train-image`` wrote it, ``reducer/``
(a PcaReducer fitted on this encoder's vectors). Embeddings are the mean of the patch tokens (what
MAE probes use; its CLS token is never trained) and L2-normalised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import timm
import torch
import torch.nn.functional as F
from PIL import Image
from timm.models.vision_transformer import VisionTransformer

from encoders.batching import autocast, compiled, host_buffer, run_overlapped, to_device
from encoders.errors import EncoderError, ReducerError
from encoders.reducer import PcaReducer
from encoders.text import _SHORT_HASH, pick_device

CONFIG_FILE = "image-encoder.json"
WEIGHTS_FILE = "model.safetensors"
REDUCER_FOLDER = "reducer"
CONFIG_KIND = "image-encoder"
FORMAT_VERSION = 1
POOLINGS = ("mean", "cls")
# ImageNet statistics: what timm checkpoints expect, and a fine default for photos of products.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_WEIGHT_FILES = (WEIGHTS_FILE, "pytorch_model.bin")
_EXPLICIT_KEYS = ("img_size", "patch_size", "embed_dim", "depth", "num_heads")
# The parts of the config that change the vectors; training statistics beside them do not.
_VERSIONED_KEYS = ("architecture", "image", "pooling")


def build_vit(architecture: Mapping[str, Any]) -> VisionTransformer:
    """A randomly initialised, headless ViT: ``timm_model`` (a timm name, other keys passed on) or explicit sizes."""
    spec = dict(architecture)
    name = spec.pop("timm_model", None)
    try:
        if name:
            model = timm.create_model(str(name), pretrained=False, num_classes=0, **spec)
        else:
            missing = [key for key in _EXPLICIT_KEYS if key not in spec]
            if missing:
                raise EncoderError(f"architecture needs timm_model or {', '.join(_EXPLICIT_KEYS)}; missing {missing}")
            model = VisionTransformer(num_classes=0, global_pool="token", **spec)
    except (RuntimeError, TypeError, ValueError, AssertionError) as exc:
        if isinstance(exc, EncoderError):
            raise
        raise EncoderError(f"cannot build the ViT {dict(architecture)}: {_first_line(exc)}") from exc
    if not isinstance(model, VisionTransformer):
        raise EncoderError(f"timm model {name!r} is a {type(model).__name__}, not a VisionTransformer")
    return model


class ImageEncoder:
    """Embeds PIL images as L2-normalised float32 vectors of width ``dim``; ``reduced`` gives the 128-d ones.

    ``version`` changes whenever the weights or the vector-shaping config change, so vectors indexed
    under one version are never mixed with another's. Build one with :meth:`load`.
    """

    def __init__(self, model_dir: Path, config: dict[str, Any], model: VisionTransformer, device: torch.device,
                 batch_size: int, *, compile_model: bool = False) -> None:
        self.model_dir = model_dir
        self.name = str(config.get("name") or model_dir.resolve().name)
        self.version = _encoder_version(self.name, config, _weights_file(model_dir))
        self.device = device
        self.batch_size = batch_size
        self.dim = int(model.embed_dim)
        self.pooling: str = config["pooling"]
        image = config["image"]
        self.input_size = int(image["size"])
        self._mean = np.asarray(image["mean"], dtype=np.float32).reshape(1, 1, 3)
        self._std = np.asarray(image["std"], dtype=np.float32).reshape(1, 1, 3)
        self._model = model
        # Batches are (B, 3, size, size): static first; a new B (a short batch) makes torch mark it dynamic.
        self._features = compiled(model.forward_features, device, enabled=compile_model, dynamic=None)
        self.reducer = _load_reducer(model_dir, self.version, self.dim)

    @classmethod
    def load(
        cls, model_dir: Path | str, device: str = "auto", batch_size: int = 32, *, compile_model: bool = False
    ) -> ImageEncoder:
        """``compile_model`` runs the ViT through ``torch.compile`` (CUDA only: ValueError on CPU)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        model_dir = Path(model_dir)
        config = read_config(model_dir)
        torch_device = pick_device(device)
        model = build_vit(config["architecture"])
        _load_weights(model, _weights_file(model_dir))
        model = model.float().to(torch_device).eval()
        return cls(model_dir, config, model, torch_device, batch_size, compile_model=compile_model)

    def __repr__(self) -> str:
        reducer = self.reducer.version if self.reducer is not None else None
        device = str(self.device)
        return f"ImageEncoder(version={self.version!r}, device={device!r}, dim={self.dim}, reducer={reducer!r})"

    def encode(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Embed ``images``; row ``i`` of the ``(len(images), dim)`` result belongs to ``images[i]``."""
        _check_images(images)
        embeddings = np.empty((len(images), self.dim), dtype=np.float32)
        # Every photo becomes the same square, so batches need no sorting: consecutive rows, fixed shape.
        batches = [np.arange(start, min(start + self.batch_size, len(images)))
                   for start in range(0, len(images), self.batch_size)]
        return run_overlapped(batches, lambda rows: self._launch([images[row] for row in rows]), embeddings)

    def reduced(self, images: Sequence[Image.Image]) -> np.ndarray:
        """The ``(len(images), reducer.dim)`` vectors stored in the index."""
        if self.reducer is None:
            raise EncoderError(
                f"{self.model_dir} has no image reducer ({REDUCER_FOLDER}/); train one with `dedup train-image`"
            )
        return self.reducer.transform(self.encode(images))

    def preprocess(self, image: Image.Image) -> np.ndarray:
        """Shorter side resized to the input size, centre crop, normalised: a (3, size, size) float32 array."""
        square = resize_center_crop(_rgb(image), self.input_size)
        pixels = (np.asarray(square, dtype=np.float32) / 255.0 - self._mean) / self._std
        return pixels.transpose(2, 0, 1)

    def _launch(self, batch: Sequence[Image.Image]) -> torch.Tensor:
        """Resize on the host, then queue the ViT: the batch's unit vectors, left on the device."""
        pixels = host_buffer((len(batch), 3, self.input_size, self.input_size), torch.float32, self.device)
        filled = pixels.numpy()
        for row, image in enumerate(batch):
            filled[row] = self.preprocess(image)
        return self.embed_pixels(pixels)

    def embed_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        """Unit vectors on the device for preprocessed ``(B, 3, size, size)`` pixels (what :meth:`preprocess` gives)."""
        with torch.inference_mode(), autocast(self.device):
            tokens = self._features(to_device(pixels, self.device))
            # Pool and normalise in fp32: bf16 means over hundreds of tokens lose visible precision.
            tokens = tokens.float()
            if self.pooling == "cls":
                pooled = tokens[:, 0]
            else:
                pooled = tokens[:, self._model.num_prefix_tokens :].mean(dim=1)
            return F.normalize(pooled, p=2, dim=1)


def resize_center_crop(image: Image.Image, size: int) -> Image.Image:
    """Scale so the shorter side is ``size`` (keeping the aspect ratio), then cut the centre square."""
    width, height = image.size
    scale = size / min(width, height)
    new_size = (max(size, round(width * scale)), max(size, round(height * scale)))
    if new_size != image.size:
        image = image.resize(new_size, Image.Resampling.BICUBIC)
    left, top = (new_size[0] - size) // 2, (new_size[1] - size) // 2
    return image.crop((left, top, left + size, top + size))


def read_config(model_dir: Path) -> dict[str, Any]:
    """``image-encoder.json``, checked enough that a bad folder fails here with one line, not mid-batch."""
    if not model_dir.is_dir():
        raise EncoderError(f"image model folder {model_dir} does not exist; train one with `dedup train-image`")
    path = model_dir / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EncoderError(f"{model_dir} is not an image model folder (no {CONFIG_FILE})") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EncoderError(f"{path} is unreadable: {_first_line(exc)}") from exc
    if not isinstance(config, dict) or config.get("kind") != CONFIG_KIND:
        raise EncoderError(f"{path} is not an {CONFIG_KIND} config (kind {_get(config, 'kind')!r})")
    if config.get("format_version") != FORMAT_VERSION:
        found = config.get("format_version")
        raise EncoderError(f"{path} has format version {found!r}; this code reads {FORMAT_VERSION}")
    _check_config(config, path)
    return config


def _check_config(config: dict[str, Any], path: Path) -> None:
    config.setdefault("pooling", "mean")
    image = config.setdefault("image", {})
    if not isinstance(config.get("architecture"), dict) or not isinstance(image, dict):
        raise EncoderError(f"{path} needs an 'architecture' object and an 'image' object")
    image.setdefault("mean", list(IMAGENET_MEAN))
    image.setdefault("std", list(IMAGENET_STD))
    image.setdefault("size", config["architecture"].get("img_size", 224))
    if config["pooling"] not in POOLINGS:
        raise EncoderError(f"{path}: pooling must be one of {POOLINGS}, got {config['pooling']!r}")
    try:
        valid = int(image["size"]) > 0 and all(
            len(image[key]) == 3 and all(float(value) > 0 or key == "mean" for value in image[key])
            for key in ("mean", "std")
        )
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise EncoderError(f"{path}: image needs a positive size and 3-channel mean/std (std > 0), got {image}")
    built_for = config["architecture"].get("img_size")
    if built_for is not None and built_for != image["size"]:
        raise EncoderError(f"{path}: the ViT takes {built_for} px images, but image.size is {image['size']}")


def _weights_file(model_dir: Path) -> Path:
    for name in _WEIGHT_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise EncoderError(f"no weights in {model_dir} (looked for {', '.join(_WEIGHT_FILES)})")


def _load_weights(model: VisionTransformer, weights: Path) -> None:
    try:
        if weights.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(weights)
        else:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        # A checkpoint may carry a classifier or an MAE decoder; the encoder's own tensors must all be there.
        missing = model.load_state_dict(state, strict=False).missing_keys
    except (OSError, RuntimeError, ValueError) as exc:
        raise EncoderError(f"cannot load the ViT weights {weights}: {_first_line(exc)}") from exc
    if missing:
        raise EncoderError(
            f"{weights} lacks {len(missing)} of the ViT's tensors (e.g. {missing[0]}); wrong architecture?"
        )


def _load_reducer(model_dir: Path, encoder_version: str, dim: int) -> PcaReducer | None:
    folder = model_dir / REDUCER_FOLDER
    if not folder.is_dir():
        return None
    reducer = PcaReducer.load(folder)
    reducer.check_source(encoder_version)
    if reducer.input_dim != dim:
        raise ReducerError(f"image reducer in {folder} expects width {reducer.input_dim}, the encoder gives {dim}")
    return reducer


def _encoder_version(name: str, config: dict[str, Any], weights: Path) -> str:
    shaping = {key: config.get(key) for key in _VERSIONED_KEYS}
    config_digest = hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()
    return f"{name}@{config_digest[:_SHORT_HASH]}-{_file_digest(weights)[:_SHORT_HASH]}"


def _file_digest(weights: Path) -> str:
    """The whole file: image encoders are small (11 MB small, 340 MB base), and stored photo vectors
    depend on every weight."""
    digest = hashlib.sha256()
    with weights.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rgb(image: Image.Image) -> Image.Image:
    # Packshots often have transparent backgrounds: put them on white, not on whatever the hidden pixels hold.
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _check_images(images: Sequence[Image.Image]) -> None:
    for index, image in enumerate(images):
        if not isinstance(image, Image.Image):
            raise TypeError(f"images[{index}] is {type(image).__name__}, expected PIL.Image.Image")


def _get(value: object, key: str) -> object:
    return value.get(key) if isinstance(value, dict) else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
