"""MAE pretraining on tiny generated photos (32 px, 8 px patches): masking, learning, the saved folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from encoders.errors import EncoderError
from encoders.images.encoder import CONFIG_FILE, ImageEncoder
from encoders.training.mae import MaeConfig, build_mae, find_images, load_photos, pretrain, train_image_encoder
from encoders.training.mae_model import kept_patches, random_masking

TINY = MaeConfig(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2, decoder=(32, 1, 2), batch_size=12,
                 learning_rate=2e-3, seed=0)


def write_photos(folder: Path, count: int = 12) -> Path:
    """Flat backgrounds with a coloured box and a disc: structure a decoder can learn to fill in."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        image = Image.new("RGB", (48, 40), tuple(int(v) for v in rng.integers(0, 256, 3)))
        draw = ImageDraw.Draw(image)
        x, y = (int(v) for v in rng.integers(0, 20, 2))
        draw.rectangle([x, y, x + 20, y + 16], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        draw.ellipse([30 - x // 2, 20, 44 - x // 2, 34], fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
        image.save(folder / f"photo-{index:02d}.{'png' if index % 2 else 'jpg'}")
    return folder


def test_masking_keeps_exactly_the_unmasked_patches() -> None:
    patches = torch.arange(4 * 16 * 3, dtype=torch.float32).reshape(4, 16, 3)
    kept, mask, restore = random_masking(patches, 0.75, torch.Generator().manual_seed(0))
    assert kept_patches(16, 0.75) == 4 and kept.shape == (4, 4, 3)
    assert mask.sum(dim=1).tolist() == [12.0] * 4
    # The decoder's view: kept tokens then placeholders, put back in place by ``restore``.
    filled = torch.cat([kept, torch.zeros(4, 12, 3)], dim=1)
    restored = torch.gather(filled, 1, restore.unsqueeze(-1).expand(-1, -1, 3))
    assert torch.equal(restored[mask == 0], patches[mask == 0])
    assert not restored[mask == 1].any()
    assert not torch.equal(mask[0], mask[1])  # a shuffle per sample, not one for the batch


def test_loss_drops_clearly_over_thirty_steps(tmp_path: Path) -> None:
    photos, _ = load_photos(find_images(write_photos(tmp_path / "photos")), 32)
    torch.manual_seed(0)
    mae = build_mae(TINY.architecture(), TINY)
    stats = pretrain(mae, photos, MaeConfig(**{**TINY.__dict__, "epochs": 30}), torch.device("cpu"), max_minutes=None)
    assert len(stats.losses) == 30
    first, last = np.mean(stats.losses[:5]), np.mean(stats.losses[-5:])
    assert last < 0.85 * first, stats.losses


def test_train_image_writes_a_folder_the_encoder_loads(tmp_path: Path) -> None:
    photos = write_photos(tmp_path / "photos")
    out = tmp_path / "models" / "mae"
    config = MaeConfig(**{**TINY.__dict__, "epochs": 3, "max_minutes": 0.05})
    report = train_image_encoder(photos, out, config, device="cpu", progress=False)
    assert 1 <= report["steps"] <= 3 and report["images"] == 12
    assert sorted(path.name for path in (tmp_path / "models").iterdir()) == ["mae"]  # no staging left behind
    training = json.loads((out / CONFIG_FILE).read_text(encoding="utf-8"))["training"]
    assert training["steps"] == report["steps"] and training["images"] == 12
    encoder = ImageEncoder.load(out, device="cpu")
    assert encoder.version == report["version"] and encoder.dim == 32
    images = [Image.open(path) for path in sorted(photos.iterdir())[:3]]
    assert encoder.reduced(images).shape == (3, report["reducer_dim"]) == (3, 11)
    with pytest.raises(EncoderError, match="not an empty folder"):
        train_image_encoder(photos, out, config, device="cpu", progress=False)


def test_images_csv_gives_its_train_split(tmp_path: Path) -> None:
    write_photos(tmp_path / "images", count=3)
    rows = ["path,split", "images/photo-00.jpg,train", "images/photo-01.png,val", "images/photo-02.jpg,train"]
    (tmp_path / "images.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert find_images(tmp_path) == [tmp_path / "images/photo-00.jpg", tmp_path / "images/photo-02.jpg"]


def test_a_folder_without_photos_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no photos here", encoding="utf-8")
    with pytest.raises(EncoderError, match="no images found under"):
        find_images(tmp_path)
