"""Labeled photo sets in the grocery layout: which photo shows which product.

A photo set is a folder::

    images.csv      path,split,product_id,coarse_id[,product_name,coarse_name]
    <path>          each photo, relative to the folder

Two photos with the same ``product_id`` show the same product (a duplicate); the same
``coarse_id`` with another product is a hard negative (Arla's three milks, two orange juices).
Everything is checked on load, as for listing sets: a malformed row fails at once with its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from decider.datasets.labeled import LISTINGS_FILE, DatasetError, _csv_rows

IMAGES_FILE = "images.csv"
PHOTO_COLUMNS = ("path", "split", "product_id", "coarse_id")


@dataclass(frozen=True)
class Photo:
    path: str  # relative to the set's folder, as in images.csv
    split: str
    product_id: str
    coarse_id: str
    product_name: str = ""
    coarse_name: str = ""


@dataclass
class PhotoSet:
    """A loaded photo set; ``photos`` keeps the file's order."""

    name: str
    root: Path
    photos: list[Photo] = field(repr=False)

    def splits(self) -> list[str]:
        return sorted({photo.split for photo in self.photos})

    def split(self, name: str) -> list[Photo]:
        """The split's photos in file order; DatasetError naming the splits there are when it has none."""
        chosen = [photo for photo in self.photos if photo.split == name]
        if not chosen:
            available = ", ".join(self.splits()) or "none"
            where = self.root / IMAGES_FILE
            raise DatasetError(f"{self.name}: no photos in split {name!r} of {where}; available: {available}")
        return chosen

    def file(self, photo: Photo) -> Path:
        return self.root / photo.path


def is_photo_set(path: Path | str) -> bool:
    """A folder with images.csv and no listings.jsonl (a listing set with photos stays a listing set)."""
    root = Path(path)
    return (root / IMAGES_FILE).is_file() and not (root / LISTINGS_FILE).exists()


def load_photo_set(path: Path | str) -> PhotoSet:
    """Read and check images.csv (every photo must exist); raises DatasetError on the first problem."""
    root = Path(path)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory")
    images_path = root / IMAGES_FILE
    if not images_path.is_file():
        raise DatasetError(f"{images_path}: missing; this folder is not a photo set")
    photos: list[Photo] = []
    seen: set[str] = set()
    for line_number, row in _csv_rows(images_path, PHOTO_COLUMNS):
        photo = _photo(row, f"{images_path}:{line_number}")
        if photo.path in seen:
            raise DatasetError(f"{images_path}:{line_number}: photo {photo.path!r} is listed twice")
        if not (root / photo.path).is_file():
            raise DatasetError(f"{images_path}:{line_number}: photo {photo.path!r} is not a file under {root}")
        seen.add(photo.path)
        photos.append(photo)
    if not photos:
        raise DatasetError(f"{images_path}: no photos listed")
    return PhotoSet(name=root.resolve().name, root=root, photos=photos)


def _photo(row: dict[str, str], where: str) -> Photo:
    values = {column: row[column].strip() for column in PHOTO_COLUMNS}
    empty = [column for column, value in values.items() if not value]
    if empty:
        raise DatasetError(f"{where}: empty {', '.join(empty)}")
    relative = PurePosixPath(values["path"])
    if relative.is_absolute() or ".." in relative.parts:
        raise DatasetError(f"{where}: path {values['path']!r} must stay inside the set's folder")
    return Photo(
        **values,
        product_name=row.get("product_name", "").strip(),
        coarse_name=row.get("coarse_name", "").strip(),
    )
