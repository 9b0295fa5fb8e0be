"""decider.datasets.photos: a photo set in the grocery layout loads, filters by split and fails clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from decider.datasets.labeled import DatasetError
from decider.datasets.photos import Photo, is_photo_set, load_photo_set

HEADER = "path,split,product_id,product_name,coarse_id,coarse_name\n"
ROWS = (
    ("images/train/milk_1.png", "train", "1", "Arla-Milk", "10", "Milk"),
    ("images/train/milk_2.png", "train", "1", "Arla-Milk", "10", "Milk"),
    ("images/train/oat_1.png", "train", "2", "Oatly", "10", "Milk"),
    ("images/val/milk_3.png", "val", "1", "Arla-Milk", "10", "Milk"),
)


def write_photo_set(root: Path, rows: tuple[tuple[str, ...], ...] = ROWS, header: str = HEADER) -> Path:
    for row in rows:
        (root / row[0]).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (8, 8), (40 * len(row[0]) % 255, 80, 120)).save(root / row[0])
    (root / "images.csv").write_text(header + "".join(",".join(row) + "\n" for row in rows))
    return root


def test_loads_every_photo_with_its_labels_in_file_order(tmp_path: Path) -> None:
    photo_set = load_photo_set(write_photo_set(tmp_path))
    assert photo_set.photos[0] == Photo("images/train/milk_1.png", "train", "1", "10", "Arla-Milk", "Milk")
    assert [photo.path for photo in photo_set.photos] == [row[0] for row in ROWS]
    assert photo_set.splits() == ["train", "val"]
    assert [photo.path for photo in photo_set.split("val")] == ["images/val/milk_3.png"]
    assert photo_set.file(photo_set.photos[0]) == tmp_path / "images/train/milk_1.png"


def test_names_are_optional(tmp_path: Path) -> None:
    rows = tuple(row[:3] + row[4:5] for row in ROWS)
    photo_set = load_photo_set(write_photo_set(tmp_path, rows, header="path,split,product_id,coarse_id\n"))
    assert photo_set.photos[2] == Photo("images/train/oat_1.png", "train", "2", "10")


def test_unknown_split_names_the_available_ones(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no photos in split 'test'.*available: train, val"):
        load_photo_set(write_photo_set(tmp_path)).split("test")


def test_is_photo_set_wants_images_csv_and_no_listings(tmp_path: Path) -> None:
    assert not is_photo_set(tmp_path)
    write_photo_set(tmp_path)
    assert is_photo_set(tmp_path)
    (tmp_path / "listings.jsonl").write_text("")
    assert not is_photo_set(tmp_path)  # a listing set that also has photos stays a listing set


def test_missing_images_csv(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="images.csv: missing"):
        load_photo_set(tmp_path)


def test_missing_column_is_named(tmp_path: Path) -> None:
    rows = tuple(row[:3] for row in ROWS)
    with pytest.raises(DatasetError, match=r"images.csv:1: .*lacks column\(s\) coarse_id"):
        load_photo_set(write_photo_set(tmp_path, rows, header="path,split,product_id\n"))


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("images/train/gone.png,train,1,A,10,Milk", "is not a file"),
        ("images/train/milk_1.png,train,1,A,10,Milk", "listed twice"),
        ("../outside.png,train,1,A,10,Milk", "must stay inside"),
        ("images/train/milk_1.png,train,,A,10,Milk", "empty product_id"),
        ("images/train/milk_1.png,train,1,A", "expected 6 fields, got 4"),
    ],
)
def test_malformed_row_fails_with_its_line(tmp_path: Path, line: str, problem: str) -> None:
    write_photo_set(tmp_path)
    with (tmp_path / "images.csv").open("a") as handle:
        handle.write(line + "\n")
    with pytest.raises(DatasetError, match=f"images.csv:6: .*{problem}"):
        load_photo_set(tmp_path)


def test_empty_set_fails(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no photos listed"):
        load_photo_set(write_photo_set(tmp_path, rows=()))
