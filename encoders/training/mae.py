"""``dedup train-image``: MAE pretraining of a ViT on the marketplace's own photos, then its 128-d reducer.

The photos are decoded once (shrunk to a little above the input size) and kept in memory; each
step draws random resized crops and flips from them. AdamW with a warm-up and a cosine decay that
follows the step count or, under a time box, the clock, whichever is further along, so a time-boxed
run still ends at a low learning rate. The folder is written whole or not at all (``staged_folder``)
and holds the encoder only: ``ImageEncoder.load(out_dir)`` serves it.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from safetensors.torch import save_file
from torchvision.transforms import RandomResizedCrop
from tqdm.auto import tqdm

from encoders.errors import EncoderError
from encoders.images.encoder import (
    CONFIG_FILE,
    CONFIG_KIND,
    FORMAT_VERSION,
    IMAGENET_MEAN,
    IMAGENET_STD,
    REDUCER_FOLDER,
    WEIGHTS_FILE,
    ImageEncoder,
    build_vit,
)
from encoders.reducer import PcaReducer
from encoders.text import pick_device
from encoders.training.mae_model import ARCHITECTURES, DECODERS, MaskedAutoencoder
from infra.files import require_new_folder, staged_folder

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
IMAGES_CSV = "images.csv"
CPU_DEFAULT_MINUTES = 10.0
# Photos are kept at this multiple of the input size: room for crops, a fraction of the full decode.
_KEPT_SCALE = 1.25
_CURVE_POINTS = 10
BATCH_SIZES = {"small": 32, "base": 128}


@dataclass(frozen=True)
class MaeConfig:
    """Every default of an MAE run; the explicit sizes override the ``size`` preset (tests use tiny ones)."""

    size: Literal["small", "base"] = "small"
    img_size: int | None = None
    patch_size: int | None = None
    embed_dim: int | None = None
    depth: int | None = None
    num_heads: int | None = None
    decoder: tuple[int, int, int] | None = None  # width, blocks, heads
    mask_ratio: float = 0.75
    epochs: int = 300
    max_minutes: float | None = None  # None: CPU_DEFAULT_MINUTES on a CPU, no time box on a GPU
    batch_size: int | None = None  # None: 32 for small (more updates in a CPU time box), 128 for base
    learning_rate: float = 1e-3
    weight_decay: float = 0.05
    warmup_ratio: float = 0.05
    min_crop_scale: float = 0.4
    max_grad_norm: float = 1.0
    reducer_dim: int = 128
    seed: int = 0
    name: str | None = None  # default: mae-vit-<size>-<images folder>

    def architecture(self) -> dict[str, Any]:
        explicit = {key: getattr(self, key) for key in ("img_size", "patch_size", "embed_dim", "depth", "num_heads")}
        return {**ARCHITECTURES[self.size], **{key: value for key, value in explicit.items() if value is not None}}


@dataclass(frozen=True)
class TrainStats:
    losses: list[float]
    seconds: float
    images_seen: int


def train_image_encoder(
    images: Path, out_dir: Path, config: MaeConfig, *, device: str = "auto", progress: bool = True
) -> dict[str, Any]:
    """Pretrain on the photos under ``images`` (a folder or an images.csv), save to ``out_dir``; a report."""
    out_dir = Path(out_dir)
    require_new_folder(out_dir, "--out", EncoderError)
    paths = find_images(Path(images))
    torch_device = pick_device(device)
    architecture = config.architecture()
    size = int(architecture["img_size"])
    photos, skipped = load_photos(paths, size, progress=progress)
    if len(photos) < 2:
        raise EncoderError(f"{len(photos)} readable photo(s) under {images} ({skipped} unreadable); need at least 2")
    budget = config.max_minutes if config.max_minutes is not None else _default_minutes(torch_device)
    with torch.random.fork_rng(devices=[torch_device] if torch_device.type == "cuda" else []):
        torch.manual_seed(config.seed)
        mae = build_mae(architecture, config).to(torch_device)
        stats = pretrain(mae, photos, config, torch_device, max_minutes=budget, progress=progress)
    name = config.name or f"mae-vit-{config.size}-{_folder_name(Path(images))}"
    with staged_folder(out_dir) as staging:
        staging.mkdir()
        _write_encoder(staging, mae, architecture, name, config, stats, len(photos))
        encoder = ImageEncoder.load(staging, device=str(torch_device))
        reducer = _fit_reducer(encoder, photos, config.reducer_dim)
        reducer.save(staging / REDUCER_FOLDER)
    return _report(out_dir, name, encoder, reducer, stats, len(photos), skipped, torch_device)


# --- data ----------------------------------------------------------------------------------------


def find_images(images: Path) -> list[Path]:
    """The photos to train on: an images.csv's train rows (or all rows without a split column), else every
    jpg/png/webp under the folder, recursively, in a stable order."""
    csv_file = images if images.suffix == ".csv" else images / IMAGES_CSV
    if csv_file.is_file():
        return _csv_images(csv_file)
    if not images.is_dir():
        raise FileNotFoundError(f"--images {images} is neither a folder nor an {IMAGES_CSV}")
    found = sorted(path for path in images.rglob("*") if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file())
    if not found:
        raise EncoderError(f"no images found under {images} (looked for {', '.join(IMAGE_SUFFIXES)}, recursively)")
    return found


def _csv_images(csv_file: Path) -> list[Path]:
    with csv_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or "path" not in rows[0]:
        raise EncoderError(f"{csv_file} needs a 'path' column (and optionally 'split') with at least one row")
    if "split" in rows[0]:
        rows = [row for row in rows if row["split"] == "train"]
    if not rows:
        raise EncoderError(f"no images found in {csv_file}: no row has split == train")
    return [csv_file.parent / row["path"] for row in rows]


def load_photos(paths: list[Path], size: int, *, progress: bool = False) -> tuple[list[Image.Image], int]:
    """Decoded RGB photos, shorter side shrunk to ``1.25 · size``; unreadable files are counted, not fatal."""
    photos: list[Image.Image] = []
    skipped = 0
    kept_side = round(size * _KEPT_SCALE)
    for path in tqdm(paths, desc="reading photos", unit="photo", disable=not progress):
        try:
            with Image.open(path) as image:
                image.draft("RGB", (kept_side, kept_side))  # JPEG: decode at a reduced scale, much faster
                photo = image.convert("RGB")
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
            skipped += 1
            continue
        photos.append(_shrink(photo, kept_side))
    return photos, skipped


def _shrink(photo: Image.Image, side: int) -> Image.Image:
    scale = side / min(photo.size)
    if scale >= 1.0:
        return photo
    return photo.resize((max(side, round(photo.width * scale)), max(side, round(photo.height * scale))),
                        Image.Resampling.BICUBIC)


def augmented_batch(photos: list[Image.Image], indices: list[int], size: int, min_scale: float) -> torch.Tensor:
    """RandomResizedCrop(min_scale..1) + horizontal flip of each photo, normalised: (B, 3, size, size)."""
    crops = []
    for index in indices:
        photo = photos[index]
        top, left, height, width = RandomResizedCrop.get_params(photo, scale=(min_scale, 1.0), ratio=(3 / 4, 4 / 3))
        # PIL's crop-and-resize in one call: several times faster than torchvision's antialiased tensor resize,
        # and bicubic like the encoder's own preprocessing.
        crop = photo.resize((size, size), Image.Resampling.BICUBIC, box=(left, top, left + width, top + height))
        if torch.rand(()) < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        crops.append(np.asarray(crop))
    batch = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (batch - mean) / std


# --- training ------------------------------------------------------------------------------------


def build_mae(architecture: dict[str, Any], config: MaeConfig) -> MaskedAutoencoder:
    width, depth, heads = config.decoder or DECODERS[config.size]
    encoder = build_vit(architecture)
    return MaskedAutoencoder(
        encoder, decoder_dim=width, decoder_depth=depth, decoder_heads=heads, mask_ratio=config.mask_ratio
    )


def pretrain(
    mae: MaskedAutoencoder,
    photos: list[Image.Image],
    config: MaeConfig,
    device: torch.device,
    *,
    max_minutes: float | None,
    progress: bool = False,
) -> TrainStats:
    """``config.epochs`` epochs or ``max_minutes`` (at least one step), whichever ends first."""
    batch_size = min(config.batch_size or BATCH_SIZES[config.size], len(photos))
    steps_per_epoch = max(1, len(photos) // batch_size)  # the last partial batch is dropped, as in MAE
    total_steps = config.epochs * steps_per_epoch
    size = int(mae.encoder.patch_embed.img_size[0])
    parameters = [parameter for parameter in mae.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(
        parameters, lr=config.learning_rate, betas=(0.9, 0.95), weight_decay=config.weight_decay
    )
    masks = torch.Generator().manual_seed(config.seed)
    budget_s = None if max_minutes is None else max_minutes * 60.0
    losses: list[float] = []
    mae.train()
    started = time.monotonic()
    with tqdm(total=total_steps, desc="MAE pretraining", unit="step", disable=not progress) as bar:
        for step in range(total_steps):
            done = _progress(step, total_steps, time.monotonic() - started, budget_s)
            if step > 0 and done >= 1.0:
                break
            if step % steps_per_epoch == 0:
                order = torch.randperm(len(photos)).tolist()
            offset = (step % steps_per_epoch) * batch_size
            batch = augmented_batch(photos, order[offset : offset + batch_size], size, config.min_crop_scale)
            _set_learning_rate(optimizer, config.learning_rate * _schedule(done, config.warmup_ratio))
            losses.append(_step(mae, optimizer, parameters, batch.to(device), masks, config.max_grad_norm))
            elapsed = time.monotonic() - started
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}", img_s=f"{len(losses) * batch_size / max(elapsed, 1e-9):.1f}")
    mae.eval()
    return TrainStats(losses=losses, seconds=time.monotonic() - started, images_seen=len(losses) * batch_size)


def _step(
    mae: MaskedAutoencoder,
    optimizer: torch.optim.Optimizer,
    parameters: list[torch.nn.Parameter],
    batch: torch.Tensor,
    masks: torch.Generator,
    max_grad_norm: float,
) -> float:
    with _train_autocast(batch.device):
        loss, _, _ = mae(batch, masks)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(parameters, max_grad_norm)
    optimizer.step()
    return float(loss.detach())


def _progress(step: int, total_steps: int, elapsed_s: float, budget_s: float | None) -> float:
    """How far along the run is, 0..1: by steps, or by the clock when that is further."""
    by_steps = step / total_steps
    return by_steps if budget_s is None else max(by_steps, elapsed_s / budget_s)


def _schedule(done: float, warmup_ratio: float) -> float:
    """Linear warm-up, then cosine decay to zero, as a factor of the peak learning rate."""
    if done < warmup_ratio:
        return (done + 1e-3) / warmup_ratio
    span = max(1.0 - warmup_ratio, 1e-9)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (done - warmup_ratio) / span)))


def _set_learning_rate(optimizer: torch.optim.Optimizer, value: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = value


def _train_autocast(device: torch.device) -> Any:
    # bf16 where the GPU has it; fp16 would need a gradient scaler, so other GPUs train in fp32.
    enabled = device.type == "cuda" and torch.cuda.is_bf16_supported()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


def _default_minutes(device: torch.device) -> float | None:
    return CPU_DEFAULT_MINUTES if device.type == "cpu" else None


# --- saving --------------------------------------------------------------------------------------


def _write_encoder(
    staging: Path,
    mae: MaskedAutoencoder,
    architecture: dict[str, Any],
    name: str,
    config: MaeConfig,
    stats: TrainStats,
    photos: int,
) -> None:
    state = {key: value.detach().float().cpu().contiguous() for key, value in mae.encoder.state_dict().items()}
    save_file(state, str(staging / WEIGHTS_FILE), metadata={"format": "pt"})
    image = {"size": int(architecture["img_size"]), "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)}
    document = {
        "kind": CONFIG_KIND,
        "format_version": FORMAT_VERSION,
        "name": name,
        "architecture": architecture,
        "image": image,
        "pooling": "mean",
        "training": {
            "method": "mae",
            "steps": len(stats.losses),
            "loss_first": stats.losses[0],
            "loss_final": _tail_mean(stats.losses),
            "minutes": round(stats.seconds / 60.0, 3),
            "images": photos,
            "images_seen": stats.images_seen,
            "config": {key: value for key, value in asdict(config).items() if value is not None},
            "torch": torch.__version__,
        },
    }
    (staging / CONFIG_FILE).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _fit_reducer(encoder: ImageEncoder, photos: list[Image.Image], reducer_dim: int) -> PcaReducer:
    vectors = encoder.encode(photos)
    dim = min(reducer_dim, encoder.dim, len(photos) - 1)
    return PcaReducer.fit(vectors, dim=dim, source=encoder.version)


def _report(
    out_dir: Path,
    name: str,
    encoder: ImageEncoder,
    reducer: PcaReducer,
    stats: TrainStats,
    photos: int,
    skipped: int,
    device: torch.device,
) -> dict[str, Any]:
    return {
        "out": str(out_dir),
        "name": name,
        "version": encoder.version,
        "dim": encoder.dim,
        "reducer_version": reducer.version,
        "reducer_dim": reducer.dim,
        "images": photos,
        "unreadable": skipped,
        "steps": len(stats.losses),
        "minutes": round(stats.seconds / 60.0, 2),
        "images_per_s": round(stats.images_seen / max(stats.seconds, 1e-9), 1),
        "loss_first": round(stats.losses[0], 4),
        "loss_final": round(_tail_mean(stats.losses), 4),
        "loss_curve": loss_curve(stats.losses),
        "device": str(device),
    }


def loss_curve(losses: list[float], points: int = _CURVE_POINTS) -> list[float]:
    """The mean loss of ``points`` equal stretches of the run: the shape of the curve without its noise."""
    chunks = max(1, min(points, len(losses)))
    bounds = [round(index * len(losses) / chunks) for index in range(chunks + 1)]
    return [round(sum(losses[a:b]) / (b - a), 4) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _tail_mean(losses: list[float]) -> float:
    tail = losses[-max(1, len(losses) // 20) :]  # the last 5 %: one step's loss is noisy
    return sum(tail) / len(tail)


def _folder_name(images: Path) -> str:
    folder = images.parent if images.suffix == ".csv" else images
    return folder.resolve().name or "photos"
