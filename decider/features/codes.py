"""Product identifiers (model numbers, part numbers, EAN/GTIN digit strings): found in text, compared in pairs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.milvus.schema import MAX_CODES_PER_LISTING

# Runs of letters/digits joined by - / . # (no spaces): "MZ-77E1T0B/EU", "215.30.46.51.01.001".
_CODE_TOKEN = re.compile(r"[a-z0-9]+(?:[\-/.#][a-z0-9]+)*", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\-/.#]")
# Spec tokens that look like codes but name a standard, a unit or a count, not a product.
_NOT_A_CODE = re.compile(
    r"^(?:"
    r"\d+(?:[.,]\d+)?(?:tb|gb|mb|kb|mah|kw|w|v|ml|cl|l|ltr|kg|g|gr|lbs?|oz|mm|cm|m|ghz|mhz|khz|hz|mp|rpm|mbps|gbps"
    r"|fps|db|p|k|x|pk|pcs|pack|count|ct|pieces|port|ports|way|speed|core|cores|bay|in|inch|st|nd|rd|th|ms|gen"
    r"|nm|bit|ch)"
    r"|\d+x\d+(?:x\d+)?|\d+in\d+"
    r"|(?:usb|pcie|ddr|gddr|lpddr|sata|hdmi|wifi|ipx|ip|cat|gen|dp|bt|ver|v|rev|no|mk|ps|win|ios|x|s|h"
    r"|size|sz|uk|eu|us)\d{1,2}"
    r")$"
)


@dataclass(frozen=True)
class Code:
    normalised: str  # lower case, separators removed: what is compared
    display: str  # as the seller wrote it: what explanations show


def listing_codes(listing: Mapping[str, Any]) -> tuple[str, ...]:
    """A listing's normalised identifiers (model number field, then title): what is stored with it and
    put in its lexical document, by the worker and by training alike."""
    found = extract_codes(listing.get("model_number"), listing.get("title"))
    return tuple(code.normalised for code in found)[:MAX_CODES_PER_LISTING]


def extract_codes(*texts: str | None) -> tuple[Code, ...]:
    """Product identifiers in ``texts``: model numbers, part numbers, EAN/GTIN digit strings.

    A code mixes letters and digits (at least 4 characters once dashes, slashes, dots and # are
    removed) or is a digit string of 6+ characters; unit quantities ("4TB"), sizes ("1920x1080")
    and standards ("USB3.0") are not codes. "MZ-77E1T0B/EU" also yields "mz77e1t0b", the part
    before the region suffix.
    """
    codes: dict[str, Code] = {}
    for text in texts:
        if not text:
            continue
        for raw in _CODE_TOKEN.findall(text):
            for written in _code_forms(raw):
                folded = written.lower()
                normalised = _SEPARATORS.sub("", folded)
                if normalised not in codes and _looks_like_code(folded, normalised):
                    codes[normalised] = Code(normalised, written)
            if len(codes) >= MAX_CODES_PER_LISTING:
                return tuple(codes.values())[:MAX_CODES_PER_LISTING]
    return tuple(codes.values())


def _code_forms(raw: str) -> tuple[str, ...]:
    if "/" in raw:
        return raw, raw.rsplit("/", 1)[0]
    return (raw,)


def _looks_like_code(raw: str, normalised: str) -> bool:
    has_digit = any(character.isdigit() for character in normalised)
    if not has_digit or _NOT_A_CODE.match(raw) or _NOT_A_CODE.match(normalised):
        return False
    if normalised.isdigit():
        return len(normalised) >= 6
    return len(normalised) >= 4


def within_one_edit(first: str, second: str) -> bool:
    """True when one substitution, insertion or deletion turns ``first`` into ``second`` (not equal)."""
    if first == second or abs(len(first) - len(second)) > 1:
        return False
    if len(first) == len(second):
        return sum(a != b for a, b in zip(first, second, strict=True)) == 1
    shorter, longer = sorted((first, second), key=len)
    for index, (a, b) in enumerate(zip(shorter, longer, strict=False)):
        if a != b:
            return shorter[index:] == longer[index + 1 :]
    return True


def one_inside_the_other(first: str, second: str) -> bool:
    """True when the shorter string (4+ characters) is written inside the longer: "mz77e1t0b" in "mz77e1t0beu"."""
    shorter, longer = sorted((first, second), key=len)
    return len(shorter) >= 4 and shorter in longer
