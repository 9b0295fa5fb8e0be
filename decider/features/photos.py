"""Photo evidence from perceptual hashes: how many of the 64 bits of two listings' pHashes differ.

Marketplaces store a 64-bit pHash per photo (``image_phash``, 16 hex digits). Sellers who copy a
listing reuse its photo, so 0 bits is the commonest duplicate; a re-encoded or resized copy lands
within a few bits; unrelated photos differ in about half of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from encoders.images.phash import PHASH_BITS, parse_phash

# At or below this many differing bits two hashes are taken as the same photo, re-encoded or resized.
SAME_PHOTO_MAX_BITS = 6


def photo_hash_bits(first: Mapping[str, Any], second: Mapping[str, Any]) -> float:
    """Differing bits of the two listings' ``image_phash``; NaN when either lacks one."""
    left, right = parse_phash(first.get("image_phash")), parse_phash(second.get("image_phash"))
    if left is None or right is None:
        return math.nan
    return float((left ^ right).bit_count())


def describe_photo_hash(bits: float) -> str:
    if math.isnan(bits):
        return "no photo hash to compare"
    if bits == 0:
        return "same photo (identical perceptual hash)"
    if bits <= SAME_PHOTO_MAX_BITS:
        return f"near-identical photos ({bits:.0f} of {PHASH_BITS} hash bits differ)"
    return f"different photos ({bits:.0f} of {PHASH_BITS} hash bits differ)"
