"""photo_phash writes the marketplaces' convention; hash_distance counts differing bits."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from encoders.images.decode import decode_photo
from encoders.images.errors import FetchLimits
from encoders.images.phash import hash_distance, parse_phash, photo_phash

GROCERY = Path(__file__).resolve().parents[5] / "shared" / "data" / "grocery"
HEX16 = re.compile(r"[0-9a-f]{16}")


def packshot(colour: str, text: str) -> Image.Image:
    image = Image.new("RGB", (128, 128), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 10, 98, 118), fill=colour)
    draw.ellipse((40, 40, 88, 88), fill="white")
    draw.text((44, 58), text, fill="black")
    return image


def test_a_re_encoded_copy_is_near_and_another_photo_is_far() -> None:
    original = packshot("navy", "MILK")
    buffer = io.BytesIO()
    original.resize((96, 96)).save(buffer, "JPEG", quality=60)
    copy = decode_photo(buffer.getvalue(), FetchLimits())
    other = Image.new("RGB", (128, 128), "white")
    ImageDraw.Draw(other).rectangle((0, 64, 128, 128), fill="black")
    first = photo_phash(original)
    assert HEX16.fullmatch(first)
    assert hash_distance(first, photo_phash(copy)) <= 6
    assert hash_distance(first, photo_phash(other)) > 16


def test_hash_distance_and_parsing() -> None:
    assert hash_distance("0000000000000000", "ffffffffffffffff") == 64
    assert hash_distance("94974f937d4c2433", "94974f937d4c2433") == 0
    assert hash_distance("94974f937d4c2433", "94974f937d4c2432") == 1
    assert parse_phash("94974F937D4C2433") == 0x94974F937D4C2433
    for bad in (None, "", "94974f937d4c243", "94974f937d4c24zz", 123):
        assert parse_phash(bad) is None
    with pytest.raises(ValueError):
        hash_distance("nothex", "94974f937d4c2433")


@pytest.mark.skipif(not (GROCERY / "images.csv").exists(), reason="needs ../shared/data/grocery")
def test_grocery_photos_hash_to_sixteen_lowercase_hex_digits() -> None:
    with (GROCERY / "images.csv").open() as rows:
        paths = [row["path"] for index, row in enumerate(csv.DictReader(rows)) if index % 300 == 0][:4]
    hashes = [photo_phash(decode_photo((GROCERY / path).read_bytes(), FetchLimits())) for path in paths]
    assert len(hashes) == 4 and all(HEX16.fullmatch(h) for h in hashes)
    assert len(set(hashes)) == len(hashes)
