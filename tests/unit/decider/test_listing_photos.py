"""A data set's listing photos read for training: hashes set in place, vectors, failures counted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from decider.datasets.candidate_pairs import labeled_pairs
from decider.datasets.labeled import LabeledPair
from decider.datasets.listing_photos import has_photos, photo_ref, read_listing_photos
from encoders.images.phash import photo_phash

STORED_HASH = "94974f937d4c2433"


def draw(path: Path, colour: str) -> None:
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).rectangle((10, 10, 50, 54), fill=colour)
    image.save(path, format="PNG")


class CountingEmbedder:
    """Stands in for an image encoder: one 4-d unit vector per photo, from its mean colour."""

    def __init__(self) -> None:
        self.seen = 0

    def __call__(self, photos: Sequence[Image.Image]) -> np.ndarray:
        self.seen += len(photos)
        means = np.array([[*np.asarray(p, dtype=np.float32).mean(axis=(0, 1)), 1.0] for p in photos])
        return (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def listings(tmp_path: Path) -> dict[str, dict]:
    draw(tmp_path / "red.png", "red")
    (tmp_path / "broken.jpg").write_bytes(b"not a photo")
    return {
        "red": {"listing_id": "red", "title": "red box", "image": "red.png"},
        "again": {"listing_id": "again", "title": "red box again", "images": [None, "red.png"]},
        "stored": {"listing_id": "stored", "title": "has a hash", "image": "red.png", "image_phash": STORED_HASH},
        "broken": {"listing_id": "broken", "title": "broken photo", "image": "broken.jpg"},
        "missing": {"listing_id": "missing", "title": "missing photo", "image": "gone.png"},
        "none": {"listing_id": "none", "title": "no photo"},
    }


def test_hashes_are_set_where_missing_and_failures_counted(listings: dict[str, dict], tmp_path: Path) -> None:
    with Image.open(tmp_path / "red.png") as photo:
        expected = photo_phash(photo)
    found = read_listing_photos(listings, tmp_path)
    assert listings["red"]["image_phash"] == listings["again"]["image_phash"] == expected
    assert listings["stored"]["image_phash"] == STORED_HASH, "a hash the listing carried is kept"
    assert "image_phash" not in listings["none"]
    assert found.hashed == 2 and found.vectors == {}
    assert found.failed == {"not_an_image": 1, "not_found": 1}


def test_with_an_embedder_every_readable_photo_gets_a_vector(listings: dict[str, dict], tmp_path: Path) -> None:
    embed = CountingEmbedder()
    found = read_listing_photos(listings, tmp_path, embed)
    assert sorted(found.vectors) == ["again", "red", "stored"]
    assert embed.seen == 3
    pairs, labels = labeled_pairs(
        {listing_id: np.ones(2, np.float32) / np.sqrt(2) for listing_id in listings},
        listings,
        [LabeledPair("red", "again", 1), LabeledPair("red", "none", 0)],
        found.vectors,
    )
    assert pairs.image_similarity[0] == pytest.approx(1.0) and np.isnan(pairs.image_similarity[1])
    assert labels.tolist() == [1, 0]


def test_photo_references(listings: dict[str, dict]) -> None:
    assert photo_ref(listings["again"]) == "red.png"
    assert photo_ref(listings["none"]) is None
    assert has_photos(listings) and not has_photos({"x": listings["none"]})
