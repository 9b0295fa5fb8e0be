"""``dedup eval`` on a photo set: generated photos of three products, hashed (and encoded by a fake encoder)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import orjson
import pytest
from PIL import Image

from decider.datasets.labeled import DatasetError
from stream.commands.cli import main
from stream.commands.evaluate_photos import print_photo_report, run_photo_eval
from stream.commands.options import EvalOptions

# product_id -> (coarse_id, colour, stripes run across rows or columns); 1 and 2 are both class 10.
PRODUCTS = {"1": ("10", (200, 30, 30), 0), "2": ("10", (220, 140, 20), 1), "3": ("20", (30, 40, 200), 0)}
PHOTOS_PER_PRODUCT = {"train": 3, "val": 2}


def packshot(colour: tuple[int, int, int], axis: int, seed: int) -> Image.Image:
    """Stripes of the product's colour, with a little per-photo noise (a re-shot photo, not a copy)."""
    stripes = (np.arange(64) // 8 % 2).astype(np.float64)
    mask = np.broadcast_to(stripes[:, None] if axis == 0 else stripes[None, :], (64, 64))
    pixels = mask[..., None] * np.array(colour) + np.random.default_rng(seed).normal(0, 6, (64, 64, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@pytest.fixture
def photo_set(tmp_path: Path) -> Path:
    rows = ["path,split,product_id,product_name,coarse_id,coarse_name"]
    for split, count in PHOTOS_PER_PRODUCT.items():
        (tmp_path / split).mkdir()
        for product_id, (coarse_id, colour, axis) in PRODUCTS.items():
            for shot in range(count):
                path = f"{split}/p{product_id}_{shot}.png"
                packshot(colour, axis, seed=len(rows)).save(tmp_path / path)
                rows.append(f"{path},{split},{product_id},product {product_id},{coarse_id},class {coarse_id}")
    (tmp_path / "images.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


def average_hash(image: Image.Image) -> str:
    """A stand-in pHash: 64 bits, one per 8x8 cell brighter than the mean."""
    cells = np.asarray(image.convert("L").resize((8, 8)), dtype=np.float64).ravel()
    return f"{int(''.join('1' if cell > cells.mean() else '0' for cell in cells), 2):016x}"


class MeanColourEncoder:
    """A stand-in encoder: the photo's mean colour as a unit vector; counts the batches it is given."""

    version = "mean-colour-1"

    def __init__(self) -> None:
        self.batches: list[int] = []

    def encode(self, images: Sequence[Image.Image]) -> np.ndarray:
        self.batches.append(len(images))
        means = np.array([np.asarray(image, dtype=np.float64).mean(axis=(0, 1)) for image in images])
        return means / np.linalg.norm(means, axis=1, keepdims=True)


def test_photo_eval_scores_val_with_everything_chosen_on_train(
    photo_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    encoder = MeanColourEncoder()
    report = run_photo_eval(EvalOptions(data=photo_set, split="val"), encoder=encoder, hasher=average_hash)
    assert (report["kind"], report["split"], report["photos"], report["products"]) == ("photos", "val", 6, 3)
    assert report["encoder"] == "mean-colour-1" and report["encoder_images_per_s"] > 0
    assert sorted(encoder.batches) == [6, 9]  # val then train, each under one batch of 32
    assert report["signals"] == ["encoder", "hash", "both"]
    # val: one same-product pair per product; products 1 and 2 share class 10: 2 x 2 hard negatives.
    # train: 3 pairs per product; 3 x 3 hard negatives.
    assert report["pairs"] == {
        "positives": 3, "hard_negatives": 4, "hard_negatives_available": 4, "f1_if_all_duplicates": round(6 / 10, 4),
        "seed": 7, "train": {"positives": 9, "hard_negatives": 9, "hard_negatives_available": 9,
                             "f1_if_all_duplicates": round(18 / 27, 4)},
    }
    # Mean colours are far apart between products and a few units apart within one.
    assert report["retrieval"]["encoder"] == {"recall_at_1": 1.0, "recall_at_5": 1.0, "queries": 6}
    assert report["pair_f1"]["encoder"]["f1"] == 1.0
    assert orjson.loads(orjson.dumps(report)) == report  # JSON-able as it stands
    print_photo_report(report, as_json=False)
    table = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines()}
    assert table["encoder"][:2] == ["1.000", "1.000"]  # recall@1, recall@5
    assert set(table) >= {"hash", "both"}


def test_train_split_is_not_scored(photo_set: Path) -> None:
    with pytest.raises(DatasetError, match="chosen on train"):
        run_photo_eval(EvalOptions(data=photo_set, split="train"), hasher=average_hash)


def test_unreadable_photo_is_named(photo_set: Path) -> None:
    (photo_set / "val" / "p1_0.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="p1_0.png: cannot read the photo"):
        run_photo_eval(EvalOptions(data=photo_set, split="val"), hasher=average_hash)


def test_dedup_eval_on_a_photo_set_reports_the_hash_alone(
    photo_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("encoders.images.phash", reason="the perceptual hash module is not there yet")
    assert main(["eval", "--data", str(photo_set), "--split", "val", "--json"]) == 0
    report = orjson.loads(capsys.readouterr().out)
    assert report["signals"] == ["hash"]
    assert report["image_model"] is None and "not given" in report["encoder"]
    assert set(report["retrieval"]["hash"]) == {"recall_at_1", "recall_at_5", "queries"}
    assert report["retrieval"]["hash"]["queries"] == 6
    assert report["pairs"]["positives"] == 3
