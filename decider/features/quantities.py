"""Quantities with units in listing text: "4TB", "500 ml", "Pack of 4", "Size XL", "W32 L30".

Each value is normalised to its family's base unit and rounded to three significant digits, so
"1.5 TB" and "1500 GB" agree.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# A number not glued to a preceding word, code or number: "SDSQUAB-064G" is a code, not 64 grams.
_NUMBER = r"(?<![\w.,\-/])(\d+(?:[.,]\d+)?)"


@dataclass(frozen=True)
class _UnitPattern:
    family: str
    pattern: re.Pattern[str]
    scale: Callable[[str], float]  # unit text (lower case) -> factor to the family's base unit


def _unit(family: str, units: str, scale: Callable[[str], float], *, suffix: str = r"(?![a-z0-9])") -> _UnitPattern:
    return _UnitPattern(family, re.compile(_NUMBER + r"\s*(" + units + r")" + suffix), scale)


def _storage_scale(unit: str) -> float:
    if unit.startswith("t"):
        return 1000.0
    if unit.startswith("m"):
        return 0.001
    if unit.startswith("k"):
        return 0.000001
    return 1.0


def _metric_scale(prefixes: Mapping[str, float]) -> Callable[[str], float]:
    def scale(unit: str) -> float:
        for prefix, factor in prefixes.items():
            if unit.startswith(prefix):
                return factor
        return 1.0

    return scale


def _one(_unit_text: str) -> float:
    return 1.0


# Base units: GB, inch, mAh, W, V, ml, g, mm, Hz, megapixel, rpm, items. Families are compared
# only with themselves, so "32W" (waist or watts) is at worst consistently misread on both sides.
UNIT_FAMILIES = (
    "storage",
    "screen",
    "battery",
    "power",
    "voltage",
    "volume",
    "weight",
    "length",
    "frequency",
    "megapixels",
    "rpm",
    "pack",
    "size",
    "waist",
    "leg",
)
_UNIT_PATTERNS: tuple[_UnitPattern, ...] = (
    # Not "6 Gb/s" or "300 Mbps": a rate is not a capacity. "Go" is French (gigaoctet).
    _unit(
        "storage",
        r"terabytes?|gigabytes?|megabytes?|tb|gb|mb|kb|go|t|g",
        _storage_scale,
        suffix=r"(?![a-z0-9])(?!\s*/\s*s)",
    ),
    _unit("screen", r"\"|''|”|″|'|-?\s?inch(?:es)?|-?in(?!\s*-?\s*\d)", _one, suffix=r"(?![a-z0-9])"),
    _unit("battery", r"k\s?mah|mah", _metric_scale({"k": 1000.0})),
    _unit("power", r"kw|watts?|w", _metric_scale({"k": 1000.0})),
    _unit("voltage", r"volts?|v", _one),
    _unit(
        "volume",
        r"fl\.?\s?oz|ml|mls|mili|mill?ilit(?:er|re)s?|cl|litres?|liters?|ltr|lt|l",
        _metric_scale({"fl": 29.5735, "ml": 1.0, "mil": 1.0, "cl": 10.0, "l": 1000.0}),
    ),
    _unit(
        "weight",
        r"kgs?|kilos?|kilograms?|mg|grams?|gramm|grm|gr|g|lbs?|oz",
        _metric_scale({"kg": 1000.0, "kilo": 1000.0, "mg": 0.001, "lb": 453.592, "oz": 28.3495}),
    ),
    _unit("length", r"mm|cm|m", _metric_scale({"mm": 1.0, "cm": 10.0, "m": 1000.0})),
    _unit("frequency", r"ghz|mhz|khz|hz", _metric_scale({"g": 1e9, "m": 1e6, "k": 1e3})),
    _unit("megapixels", r"megapixels?|mp", _one),
    _unit("rpm", r"rpm", _one),
    _unit(
        "pack",
        r"-?\s?(?:pack|pk|pcs|pc|pieces?|count|ct|rolls?|tablets|tabs|capsules|caps|pods|tea\s?bags|bags|nappies"
        r"|washes|sheets|pouches|sticks|bars|tablet|kapsul|kaplet|biji|lembar|lbr|sachets?|butir|buah|lusin|dozen)",
        _metric_scale({"lusin": 12.0, "dozen": 12.0}),  # Indonesian sellers count in dozens (lusin)
    ),
)
# "Pack of 4", "x4" (a token of its own: "29 x 2.3" is a size, not a pack), "12's", "isi 12" (Indonesian:
# contains 12; "isi 500 ml" is an amount).
_AMOUNT_UNIT = r"(?:kgs?|kilo|grams?|grm|gr|g|mg|ml|mili|liter|litre|ltr|lt|l|cm|mm|m|mah|w|v|gb|tb|inch)(?![a-z])"
_PACK_OF = re.compile(
    r"\bpack of (\d{1,4})\b|(?<![\w.])x(\d{1,3})(?![\w.])|(?<![\w.,])(\d{1,4})\s?['’`]s\b"
    rf"|\bisi\s?(\d{{1,4}})(?![\w.,]|\s?[.,]?\d|\s?{_AMOUNT_UNIT})"
)
# Clothing and shoe sizes: "Size XL", "UK 9.5", "(M)"; jeans: "W32 L30", "Waist 32".
_LETTER_SIZES = {
    "xxs": "XXS", "xs": "XS", "s": "S", "m": "M", "l": "L", "xl": "XL", "xxl": "XXL", "2xl": "XXL", "xxxl": "XXXL",
    "3xl": "XXXL",
}  # fmt: skip
_LETTER_SIZE = "|".join(sorted(_LETTER_SIZES, key=len, reverse=True))
_SIZE = re.compile(
    rf"\b(?:uk\s?size|size|sz|ukuran|uk|eu|us)\s?(\d{{1,2}}(?:\.5)?|{_LETTER_SIZE})(?![\w.])|\(({_LETTER_SIZE})\)"
)
_WAIST = re.compile(r"\b(?:w|waist\s?)(\d{2})(?![\w.])")
_LEG = re.compile(r"\b(?:l|leg\s?)(\d{2})(?![\w.])")

# A bare "g" after a number is grams ("500g" coffee) unless the number is a memory size ("64G"
# card); 2G-5G are network generations, not capacities, and stay grams-or-nothing as well.
_MEMORY_SIZES_GB = frozenset({8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0})


def _parse_number(text: str) -> float:
    """'3,5' is a decimal comma; three digits after a comma or dot are thousands: '4,000', '2.000' (Indonesian)."""
    whole, _, fraction = text.replace(",", ".").partition(".")
    if len(fraction) == 3 and not whole.startswith("0"):
        return float(whole + fraction)
    return float(f"{whole}.{fraction}" if fraction else whole)


def _rounded(value: float) -> float:
    """Three significant digits, so 1.5 TB (1500 GB) and 1500 GB compare equal."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, 2 - int(math.floor(math.log10(abs(value)))))


Quantity = float | str  # a number in the family's base unit, or a letter size ("XL")


def extract_quantities(text: str) -> dict[str, frozenset[Quantity]]:
    """Family -> normalised values found in ``text`` (lower case expected), e.g. {"storage": {4000.0}}."""
    found: dict[str, set[Quantity]] = {}
    for unit in _UNIT_PATTERNS:
        for number, unit_text in unit.pattern.findall(text):
            unit_text = unit_text.strip().lstrip("-").strip()
            value = _parse_number(number)
            if unit_text == "g" and (unit.family == "storage") != (value in _MEMORY_SIZES_GB):
                continue  # the other family owns this bare "g"
            value *= unit.scale(unit_text)
            if value > 0:
                found.setdefault(unit.family, set()).add(_rounded(value))
    for match in _PACK_OF.finditer(text):
        count = int(next(group for group in match.groups() if group))
        if count > 0:
            found.setdefault("pack", set()).add(float(count))
    for number_or_letters, letters in _SIZE.findall(text):
        size = number_or_letters or letters
        found.setdefault("size", set()).add(_LETTER_SIZES.get(size) or float(size))
    for family, pattern in (("waist", _WAIST), ("leg", _LEG)):
        for number in pattern.findall(text):
            found.setdefault(family, set()).add(float(number))
    return {family: frozenset(values) for family, values in found.items()}
