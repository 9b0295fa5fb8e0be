"""64-bit perceptual hashes of photos, written as marketplaces store them (16 lowercase hex digits).

``imagehash.phash`` is the convention of the Shopee data's ``image_phash``; the Hamming distance
between two such hashes is the photo-reuse signal (0 bits: the same photo; a few: re-encoded or
resized; about 32: unrelated). imagehash (and scipy under it) is imported only when a photo is hashed.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

PHASH_BITS = 64
PHASH_HEX_DIGITS = PHASH_BITS // 4


def photo_phash(image: Image.Image) -> str:
    """The photo's pHash as 16 lowercase hex digits."""
    import imagehash

    return str(imagehash.phash(image))


def parse_phash(value: Any) -> int | None:
    """The hash as an integer, or None when absent or not 16 hex digits."""
    if not isinstance(value, str) or len(value) != PHASH_HEX_DIGITS:
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None


def hash_distance(a: str, b: str) -> int:
    """Differing bits of two pHashes; ValueError when either is not 16 hex digits."""
    left, right = parse_phash(a), parse_phash(b)
    if left is None or right is None:
        raise ValueError(f"a pHash is {PHASH_HEX_DIGITS} hex digits: got {a!r} and {b!r}")
    return (left ^ right).bit_count()
