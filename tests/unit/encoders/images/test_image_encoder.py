"""The image encoder on a tiny random ViT folder: loading, vectors, versions, the reducer's source check."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from encoders.errors import EncoderError, ReducerError
from encoders.images.encoder import CONFIG_FILE, REDUCER_FOLDER, WEIGHTS_FILE, ImageEncoder, build_vit
from encoders.reducer import PcaReducer

TINY = {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 1, "num_heads": 2}


def write_folder(folder: Path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    state = {key: value.contiguous() for key, value in build_vit(TINY).state_dict().items()}
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / WEIGHTS_FILE))
    config = {"kind": "image-encoder", "format_version": 1, "name": "tiny-vit", "architecture": TINY,
              "image": {"size": 32, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}}
    (folder / CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")
    return folder


def photos(count: int, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    # Odd sizes and modes: the encoder resizes, crops and converts every one of them.
    sizes = [(40, 30), (32, 64), (50, 50), (33, 47)]
    modes = ["RGB", "L", "RGBA", "RGB"]
    return [
        Image.fromarray(rng.integers(0, 255, (*sizes[i % 4][::-1], 3), dtype=np.uint8)).convert(modes[i % 4])
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_folder(tmp_path_factory.mktemp("tiny-vit") / "model")


def test_vectors_are_deterministic_normalised_and_independent_of_batching(tiny_folder: Path) -> None:
    images = photos(5)
    encoder = ImageEncoder.load(tiny_folder, device="cpu", batch_size=2)
    vectors = encoder.encode(images)
    assert vectors.shape == (5, 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(ImageEncoder.load(tiny_folder, device="cpu", batch_size=32).encode(images), vectors,
                               atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])
    assert encoder.encode([]).shape == (0, 32)


def test_version_follows_the_weights(tmp_path: Path, tiny_folder: Path) -> None:
    other = write_folder(tmp_path / "other", seed=1)
    first, second = ImageEncoder.load(tiny_folder, device="cpu"), ImageEncoder.load(other, device="cpu")
    assert first.version.startswith("tiny-vit@") and first.version != second.version
    assert first.version == ImageEncoder.load(tiny_folder, device="cpu").version


@pytest.mark.parametrize(
    ("breakage", "needle"),
    [
        ("missing", "does not exist"),
        ("no-config", "no image-encoder.json"),
        ("bad-json", "unreadable"),
        ("no-weights", "no weights"),
        ("wrong-architecture", "cannot load the ViT weights"),
    ],
)
def test_a_bad_folder_is_one_line(tmp_path: Path, breakage: str, needle: str) -> None:
    folder = write_folder(tmp_path / "model")
    config = folder / CONFIG_FILE
    if breakage == "missing":
        folder = tmp_path / "absent"
    elif breakage == "no-config":
        config.unlink()
    elif breakage == "bad-json":
        config.write_text("{", encoding="utf-8")
    elif breakage == "no-weights":
        (folder / WEIGHTS_FILE).unlink()
    else:
        document = json.loads(config.read_text(encoding="utf-8"))
        config.write_text(json.dumps({**document, "architecture": {**TINY, "embed_dim": 64}}), encoding="utf-8")
    with pytest.raises(EncoderError) as error:
        ImageEncoder.load(folder, device="cpu")
    assert needle in str(error.value) and "\n" not in str(error.value)


def test_reduced_needs_a_reducer_fitted_on_this_encoder(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "model")
    encoder = ImageEncoder.load(folder, device="cpu")
    with pytest.raises(EncoderError, match="no image reducer"):
        encoder.reduced(photos(2))
    vectors = encoder.encode(photos(12))
    PcaReducer.fit(vectors, dim=8, source=encoder.version).save(folder / REDUCER_FOLDER)
    reduced = ImageEncoder.load(folder, device="cpu").reduced(photos(3))
    assert reduced.shape == (3, 8)
    np.testing.assert_allclose(np.linalg.norm(reduced, axis=1), 1.0, atol=1e-5)
    PcaReducer.fit(vectors, dim=8, source="another-vit@0-0").save(folder / REDUCER_FOLDER)
    with pytest.raises(ReducerError, match="fitted on another-vit@0-0"):
        ImageEncoder.load(folder, device="cpu")
