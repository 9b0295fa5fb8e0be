"""Cheap pair features for product matching: identifiers, units, brand, price, text overlap, vectors.

Every feature is symmetric (swapping query and candidate gives the same value) and is NaN where it
is undefined, typically because one side lacks the field (no model number, no price, no capacity, a
candidate listing the caller could not supply). A gradient-boosted tree treats NaN as its own
branch, so "unknown" never masquerades as "disagrees".

Listing-level work (tokenising, extracting codes and quantities) is done once per listing object in
a call to :func:`pair_features`, so scoring a query against ten candidates parses the query once.
Pure Python + numpy; see ``benchmarks/bench_decider_pairs.py`` for the cost per pair.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from decider.known_products import KNOWN_PRODUCT_FEATURES, KnownProducts
from decider.pairs import CandidatePairs
from encoders.listing import MAX_DESCRIPTION_CHARS

# Bump whenever a feature's definition, order or extraction changes: saved deciders record it and
# refuse to load under another, since their trees split on the old values.
FEATURE_VERSION = "3"

MAX_CODES_PER_LISTING = 8
# Codes shorter than this are too generic to look for inside the other listing's whole text.
MIN_CODE_LENGTH_FOR_TEXT_SEARCH = 5

VECTOR_FEATURES = (
    "text_cosine",
    "image_cosine",
    "vector_abs_diff_mean",
    "vector_abs_diff_max",
    "vector_product_min",
    "vector_disagreeing_dims",
)
IDENTIFIER_FEATURES = (
    "code_shared",
    "code_contained",
    "code_neighbour",
    "code_prefix_overlap",
    "code_in_other_text",
    "model_number_match",
)


# --- quantities with units ------------------------------------------------------------------------

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
        r"fl\.?\s?oz|ml|cl|litres?|liters?|ltr|l",
        _metric_scale({"fl": 29.5735, "ml": 1.0, "cl": 10.0, "l": 1000.0}),
    ),
    _unit(
        "weight",
        r"kg|kilos?|grams?|gr|g|lbs?|oz",
        _metric_scale({"kg": 1000.0, "kilo": 1000.0, "lb": 453.592, "oz": 28.3495}),
    ),
    _unit("length", r"mm|cm|m", _metric_scale({"mm": 1.0, "cm": 10.0, "m": 1000.0})),
    _unit("frequency", r"ghz|mhz|khz|hz", _metric_scale({"g": 1e9, "m": 1e6, "k": 1e3})),
    _unit("megapixels", r"megapixels?|mp", _one),
    _unit("rpm", r"rpm", _one),
    _unit(
        "pack",
        r"-?\s?(?:pack|pk|pcs|pieces|count|ct|rolls?|tablets|tabs|capsules|caps|pods|tea\s?bags|bags|nappies|washes"
        r"|sheets|pouches|sticks|bars)",
        _one,
    ),
)
# "Pack of 4", "x4" (a token of its own: "29 x 2.3" is a size, not a pack).
_PACK_OF = re.compile(r"\bpack of (\d{1,4})\b|(?<![\w.])x(\d{1,3})(?![\w.])")
# Clothing and shoe sizes: "Size XL", "UK 9.5", "(M)"; jeans: "W32 L30", "Waist 32".
_LETTER_SIZES = {
    "xxs": "XXS", "xs": "XS", "s": "S", "m": "M", "l": "L", "xl": "XL", "xxl": "XXL", "2xl": "XXL", "xxxl": "XXXL",
    "3xl": "XXXL",
}  # fmt: skip
_LETTER_SIZE = "|".join(sorted(_LETTER_SIZES, key=len, reverse=True))
_SIZE = re.compile(
    rf"\b(?:uk\s?size|size|sz|uk|eu|us)\s?(\d{{1,2}}(?:\.5)?|{_LETTER_SIZE})(?![\w.])|\(({_LETTER_SIZE})\)"
)
_WAIST = re.compile(r"\b(?:w|waist\s?)(\d{2})(?![\w.])")
_LEG = re.compile(r"\b(?:l|leg\s?)(\d{2})(?![\w.])")

# A bare "g" after a number is grams ("500g" coffee) unless the number is a memory size ("64G"
# card); 2G-5G are network generations, not capacities, and stay grams-or-nothing as well.
_MEMORY_SIZES_GB = frozenset({8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0})


def _parse_number(text: str) -> float:
    """'3,5' is a decimal comma; '4,000' (three digits after the comma) is a thousands separator."""
    if "," in text:
        whole, _, fraction = text.partition(",")
        text = whole + fraction if len(fraction) == 3 else f"{whole}.{fraction}"
    return float(text)


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
        count = int(match.group(1) or match.group(2))
        if count > 0:
            found.setdefault("pack", set()).add(float(count))
    for number_or_letters, letters in _SIZE.findall(text):
        size = number_or_letters or letters
        found.setdefault("size", set()).add(_LETTER_SIZES.get(size) or float(size))
    for family, pattern in (("waist", _WAIST), ("leg", _LEG)):
        for number in pattern.findall(text):
            found.setdefault(family, set()).add(float(number))
    return {family: frozenset(values) for family, values in found.items()}


# --- identifiers ----------------------------------------------------------------------------------

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


def _model_number_code(model_number: str) -> tuple[Code, ...]:
    """A seller's model_number field is a code whatever its shape ("MPQHYZM/A" has no digit)."""
    normalised = "".join(_WORD.findall(model_number.lower()))
    if len(normalised) < 3:
        return ()
    return (Code(normalised, model_number), *extract_codes(model_number))


def _merged_codes(*groups: tuple[Code, ...]) -> tuple[Code, ...]:
    merged: dict[str, Code] = {}
    for code in (code for group in groups for code in group):
        merged.setdefault(code.normalised, code)
    return tuple(merged.values())[:MAX_CODES_PER_LISTING]


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


# --- words ----------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
_COLOUR_SYNONYMS: Mapping[str, str] = {
    "black": "black", "blk": "black", "noir": "black", "schwarz": "black", "zwart": "black", "nero": "black",
    "white": "white", "wht": "white", "blanc": "white", "weiss": "white", "wit": "white", "bianco": "white",
    "silver": "silver", "slv": "silver", "grey": "grey", "gray": "grey", "gry": "grey", "graphite": "grey",
    "charcoal": "grey", "blue": "blue", "blu": "blue", "navy": "navy", "red": "red", "burgundy": "red",
    "green": "green", "grn": "green", "khaki": "khaki", "yellow": "yellow", "pink": "pink", "rose": "pink",
    "purple": "purple", "violet": "purple", "plum": "purple", "lavender": "purple", "orange": "orange",
    "gold": "gold", "brown": "brown", "beige": "beige", "cream": "beige", "titanium": "titanium",
    "midnight": "midnight", "starlight": "starlight", "bronze": "bronze", "copper": "copper", "teal": "teal",
    "turquoise": "teal", "coral": "coral", "sand": "sand", "sandstone": "sand", "chestnut": "chestnut",
    "mint": "mint", "sage": "sage", "platinum": "platinum", "olive": "olive", "chrome": "chrome",
    "caramel": "caramel", "ivory": "ivory", "champagne": "champagne", "lilac": "lilac", "cyan": "cyan",
    "magenta": "magenta", "indigo": "indigo", "maroon": "maroon", "pebble": "pebble", "stone": "stone",
}  # fmt: skip


def _fold(text: str) -> str:
    """Lower case without accents: 'Qualità' -> 'qualita'."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKD", text)
    return "".join(character for character in folded if not unicodedata.combining(character)).lower()


def _text(listing: Mapping[str, Any], field_name: str) -> str:
    value = listing.get(field_name)
    return value.strip() if isinstance(value, str) else ""


def _trigrams(text: str) -> frozenset[str]:
    padded = f" {' '.join(_WORD.findall(text))} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def _price(listing: Mapping[str, Any]) -> float | None:
    value = listing.get("price")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


@dataclass(frozen=True)
class ListingProfile:
    """What the features read from one listing, computed once per listing."""

    title: str
    words: frozenset[str]
    first_word: str | None
    trigrams: frozenset[str]
    numbers: frozenset[str]
    codes: tuple[Code, ...]
    compact_text: str  # title + model number + description, letters and digits only
    model_number: str | None
    quantities: Mapping[str, frozenset[Quantity]]
    brand: str | None
    colours: frozenset[str]
    price: float | None
    currency: str | None
    description_words: frozenset[str] | None

    @classmethod
    def of(cls, listing: Mapping[str, Any]) -> "ListingProfile":
        title = _text(listing, "title")
        folded = _fold(title)
        words = _WORD.findall(folded)
        model_number = _text(listing, "model_number")
        description = _fold(_text(listing, "description")[:MAX_DESCRIPTION_CHARS])
        brand = "".join(_WORD.findall(_fold(_text(listing, "brand"))))
        return cls(
            title=title,
            words=frozenset(words),
            first_word=words[0] if words else None,
            trigrams=_trigrams(folded),
            numbers=frozenset(_DIGITS.findall(folded)),
            codes=_merged_codes(_model_number_code(model_number), extract_codes(title)),
            compact_text="".join(_WORD.findall(f"{folded} {_fold(model_number)} {description}")),
            model_number="".join(_WORD.findall(_fold(model_number))) or None,
            quantities=extract_quantities(folded),
            brand=brand or None,
            colours=frozenset(_COLOUR_SYNONYMS[word] for word in words if word in _COLOUR_SYNONYMS),
            price=_price(listing),
            currency=_text(listing, "currency").upper() or None,
            description_words=frozenset(_WORD.findall(description)) if description else None,
        )


# --- pair features --------------------------------------------------------------------------------

_LISTING_FEATURES: tuple[str, ...] = (
    *IDENTIFIER_FEATURES,
    *(f"unit_{family}" for family in UNIT_FAMILIES),
    "unit_agreements",
    "unit_conflicts",
    "brand_match",
    "brand_in_other_text",
    "first_word_match",
    "price_ratio",
    "token_jaccard",
    "token_containment",
    "trigram_jaccard",
    "length_ratio",
    "numbers_jaccard",
    "description_jaccard",
    "colour_match",
)
_FEATURE_NAMES: tuple[str, ...] = (*VECTOR_FEATURES, *_LISTING_FEATURES, *KNOWN_PRODUCT_FEATURES)
_FEATURE_INDEX = {name: index for index, name in enumerate(_FEATURE_NAMES)}

# Features that go NaN when a listing is missing are exactly the listing features; the vector
# features are NaN only where image_similarity is (no image on one side).
NAN_WHEN_LISTING_MISSING = frozenset(_LISTING_FEATURES)

# For explanations: each group is judged together (its members move together, so removing one
# alone says little) and described by its first member.
EXPLANATION_GROUPS: Mapping[str, tuple[str, ...]] = {
    "text_cosine": VECTOR_FEATURES[:1] + VECTOR_FEATURES[2:],
    "image_cosine": ("image_cosine",),
    "code_shared": IDENTIFIER_FEATURES,
    **{f"unit_{family}": (f"unit_{family}",) for family in UNIT_FAMILIES},
    "unit_conflicts": ("unit_agreements", "unit_conflicts"),
    "brand_match": ("brand_match", "brand_in_other_text", "first_word_match"),
    "price_ratio": ("price_ratio",),
    "token_jaccard": ("token_jaccard", "token_containment", "trigram_jaccard", "length_ratio", "numbers_jaccard"),
    "description_jaccard": ("description_jaccard",),
    "colour_match": ("colour_match",),
    "known_product_same": KNOWN_PRODUCT_FEATURES,
}


def feature_names() -> list[str]:
    """Column names of :func:`pair_features`, in order."""
    return list(_FEATURE_NAMES)


def pair_features(pairs: CandidatePairs, known: KnownProducts | None = None) -> np.ndarray:
    """(len(pairs), len(feature_names())) float32 matrix; NaN where a feature is undefined.

    ``query_listings`` / ``candidate_listings`` may be shorter than the pairs (the worker may not
    have every candidate's fields) or hold None: those rows get NaN listing features. The
    known-product features are NaN without ``known``.
    """
    n = len(pairs)
    features = np.full((n, len(_FEATURE_NAMES)), np.nan, dtype=np.float32)
    if n == 0:
        return features
    features[:, : len(VECTOR_FEATURES)] = _vector_features(pairs)
    profiles: dict[int, ListingProfile] = {}
    first_listing_column = len(VECTOR_FEATURES)
    end_listing_column = first_listing_column + len(_LISTING_FEATURES)
    if known is not None:
        features[:, end_listing_column:] = known.pair_features(pairs)
    for row in range(n):
        query = _listing_at(pairs.query_listings, row)
        candidate = _listing_at(pairs.candidate_listings, row)
        if query is None or candidate is None:
            continue
        query_profile, candidate_profile = _profile(query, profiles), _profile(candidate, profiles)
        features[row, first_listing_column:end_listing_column] = listing_pair_features(query_profile, candidate_profile)
    return features


def listing_pair_features(first: ListingProfile, second: ListingProfile) -> list[float]:
    """The listing features of one pair, in ``feature_names()`` order after the vector features."""
    units = [_set_agreement(first.quantities.get(family), second.quantities.get(family)) for family in UNIT_FAMILIES]
    compared_units = [value for value in units if not math.isnan(value)]
    return [
        *_identifier_features(first, second),
        *units,
        float(sum(value == 1.0 for value in compared_units)),
        float(sum(value == 0.0 for value in compared_units)),
        *_brand_features(first, second),
        _price_ratio(first, second),
        _jaccard(first.words, second.words),
        _containment(first.words, second.words),
        _jaccard(first.trigrams, second.trigrams),
        _ratio(len(first.title), len(second.title)),
        _jaccard(first.numbers, second.numbers) if first.numbers or second.numbers else math.nan,
        _jaccard(first.description_words, second.description_words),
        _set_agreement(first.colours or None, second.colours or None),
    ]


def _listing_at(listings: Sequence[Mapping[str, Any] | None], row: int) -> Mapping[str, Any] | None:
    return listings[row] if row < len(listings) else None


def _profile(listing: Mapping[str, Any], cache: dict[int, ListingProfile]) -> ListingProfile:
    # Keyed by object identity: the worker passes the same dict for every pair of one query.
    key = id(listing)
    profile = cache.get(key)
    if profile is None:
        profile = cache[key] = ListingProfile.of(listing)
    return profile


def _vector_features(pairs: CandidatePairs) -> np.ndarray:
    query = np.asarray(pairs.query_text, dtype=np.float32)
    candidate = np.asarray(pairs.candidate_text, dtype=np.float32)
    abs_diff = np.abs(query - candidate)
    product = query * candidate
    width = max(query.shape[1], 1)
    # A dimension "disagrees" when the two vectors point opposite ways in it by a visible margin.
    disagreeing = (product < -1.0 / width).sum(axis=1) / width
    return np.column_stack(
        [
            np.asarray(pairs.text_similarity, dtype=np.float32),
            np.asarray(pairs.image_similarity, dtype=np.float32),
            abs_diff.mean(axis=1),
            abs_diff.max(axis=1, initial=0.0),
            product.min(axis=1, initial=0.0),
            disagreeing,
        ]
    )


def _identifier_features(first: ListingProfile, second: ListingProfile) -> list[float]:
    in_other_text = _codes_in_other_text(first, second)
    model_number = _model_number_match(first.model_number, second.model_number)
    if not first.codes or not second.codes:
        return [math.nan, math.nan, math.nan, math.nan, in_other_text, model_number]
    left = {code.normalised for code in first.codes}
    right = {code.normalised for code in second.codes}
    shared = bool(left & right)
    contained = not shared and any(_contains(a, b) for a in left for b in right)
    neighbour = not shared and not contained and any(within_one_edit(a, b) for a in left for b in right)
    prefix = max(_common_prefix_ratio(a, b) for a in left for b in right)
    return [float(shared), float(contained), float(neighbour), prefix, in_other_text, model_number]


def _contains(first: str, second: str) -> bool:
    shorter, longer = sorted((first, second), key=len)
    return len(shorter) >= 4 and shorter in longer


def _common_prefix_ratio(first: str, second: str) -> float:
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return length / max(len(first), len(second))


def _codes_in_other_text(first: ListingProfile, second: ListingProfile) -> float:
    """The larger share of one side's codes written anywhere in the other's title/description."""
    shares = [
        _share_found(codes, text)
        for codes, text in ((first.codes, second.compact_text), (second.codes, first.compact_text))
    ]
    defined = [share for share in shares if not math.isnan(share)]
    return max(defined) if defined else math.nan


def _share_found(codes: Iterable[Code], text: str) -> float:
    searchable = [code.normalised for code in codes if len(code.normalised) >= MIN_CODE_LENGTH_FOR_TEXT_SEARCH]
    if not searchable or not text:
        return math.nan
    return sum(code in text for code in searchable) / len(searchable)


def _model_number_match(first: str | None, second: str | None) -> float:
    if not first or not second:
        return math.nan
    return float(first == second or _contains(first, second))


def _brand_features(first: ListingProfile, second: ListingProfile) -> list[float]:
    if first.brand and second.brand:
        match = float(first.brand == second.brand or _contains(first.brand, second.brand))
    else:
        match = math.nan
    in_other = [
        float(brand in other.compact_text)
        for brand, other in ((first.brand, second), (second.brand, first))
        if brand and len(brand) >= 2
    ]
    first_word = float(first.first_word == second.first_word) if first.first_word and second.first_word else math.nan
    return [match, max(in_other) if in_other else math.nan, first_word]


def _price_ratio(first: ListingProfile, second: ListingProfile) -> float:
    if first.price is None or second.price is None:
        return math.nan
    if first.currency and second.currency and first.currency != second.currency:
        return math.nan  # no exchange rates here: a ratio across currencies means nothing
    return min(first.price, second.price) / max(first.price, second.price)


def _set_agreement(first: frozenset[Any] | None, second: frozenset[Any] | None) -> float:
    """Jaccard of two value sets: 1 agree, 0 conflict, between: partly; NaN when a side has none."""
    if not first or not second:
        return math.nan
    return len(first & second) / len(first | second)


def _jaccard(first: frozenset[str] | None, second: frozenset[str] | None) -> float:
    if first is None or second is None:
        return math.nan
    union = len(first | second)
    return len(first & second) / union if union else math.nan


def _containment(first: frozenset[str], second: frozenset[str]) -> float:
    smaller = min(len(first), len(second))
    return len(first & second) / smaller if smaller else math.nan


def _ratio(first: float, second: float) -> float:
    larger = max(first, second)
    return min(first, second) / larger if larger else math.nan


# --- explanations ---------------------------------------------------------------------------------

_UNIT_LABELS: Mapping[str, str] = {
    "storage": "capacity",
    "screen": "size (inches)",
    "battery": "battery",
    "power": "power",
    "voltage": "voltage",
    "volume": "volume",
    "weight": "weight",
    "length": "length",
    "frequency": "frequency",
    "megapixels": "resolution",
    "rpm": "speed (rpm)",
    "pack": "pack count",
    "size": "size",
    "waist": "waist",
    "leg": "leg length",
}


def describe(name: str, value: float, query: Mapping[str, Any], candidate: Mapping[str, Any]) -> str:
    """A short phrase for feature ``name`` with ``value`` on this pair, e.g. "capacity differs (4 TB vs 6 TB)"."""
    if name not in _FEATURE_INDEX:
        raise KeyError(f"unknown feature {name!r}; known: {', '.join(_FEATURE_NAMES)}")
    first, second = _described_profile(query), _described_profile(candidate)
    if name in IDENTIFIER_FEATURES:
        return _describe_codes(first, second)
    if name.startswith("unit_") and name.removeprefix("unit_") in _UNIT_LABELS:
        return _describe_unit(name.removeprefix("unit_"), first, second)
    describer = _DESCRIBERS.get(name)
    if describer is not None:
        return describer(value, first, second)
    return f"{name.replace('_', ' ')} {_number(value)}"


_PROFILE_FIELDS = ("title", "model_number", "description", "brand", "price", "currency")


def _described_profile(listing: Mapping[str, Any]) -> ListingProfile:
    """Explanations describe a few groups per pair: parse each listing once, not once per phrase."""
    key = tuple(_hashable(listing.get(field_name)) for field_name in _PROFILE_FIELDS)
    return _profile_from_fields(key)


@lru_cache(maxsize=1024)
def _profile_from_fields(fields: tuple[Any, ...]) -> ListingProfile:
    return ListingProfile.of(dict(zip(_PROFILE_FIELDS, fields, strict=True)))


def _hashable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | None) else repr(value)


def _describe_codes(first: ListingProfile, second: ListingProfile) -> str:
    if not first.codes or not second.codes:
        found = _codes_in_other_text(first, second)
        if not math.isnan(found) and found > 0:
            return "model number found in the other listing's text"
        one_side = first.codes or second.codes
        return f"model number on one side only ({one_side[0].display})" if one_side else "no model numbers to compare"
    pairs = [(a, b) for a in first.codes for b in second.codes]
    for test, phrase in (
        (lambda a, b: a.normalised == b.normalised, "model numbers agree ({a})"),
        (lambda a, b: _contains(a.normalised, b.normalised), "model numbers agree ({a} ~ {b})"),
        (lambda a, b: within_one_edit(a.normalised, b.normalised), "neighbouring model numbers ({a} vs {b})"),
    ):
        for a, b in pairs:
            if test(a, b):
                return phrase.format(a=a.display, b=b.display)
    return f"model numbers differ ({first.codes[0].display} vs {second.codes[0].display})"


def _describe_unit(family: str, first: ListingProfile, second: ListingProfile) -> str:
    label = _UNIT_LABELS[family]
    left, right = first.quantities.get(family), second.quantities.get(family)
    if not left or not right:
        return f"{label} stated on one side only" if left or right else f"no {label} stated"
    shown = f"{_quantity(family, left)} vs {_quantity(family, right)}"
    if left == right:
        return f"{label} agrees ({_quantity(family, left)})"
    return f"{label} differs ({shown})" if not left & right else f"{label} partly agrees ({shown})"


def _quantity(family: str, values: frozenset[Quantity]) -> str:
    return "/".join(_format_quantity(family, value) for value in sorted(values, key=str))


_UNIT_SUFFIXES: Mapping[str, str] = {
    "screen": '"', "battery": " mAh", "power": " W", "voltage": " V", "volume": " ml", "weight": " g", "length": " mm",
    "frequency": " Hz", "megapixels": " MP", "rpm": " rpm", "pack": "-pack", "waist": '" waist', "leg": '" leg',
}  # fmt: skip


def _format_quantity(family: str, value: Quantity) -> str:
    if isinstance(value, str):
        return value
    if family == "storage":
        return f"{_number(value / 1000)} TB" if value >= 1000 else f"{_number(value)} GB"
    return f"{_number(value)}{_UNIT_SUFFIXES.get(family, '')}"


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3g}"


def _describe_brand(_value: float, first: ListingProfile, second: ListingProfile) -> str:
    if first.brand and second.brand:
        if first.brand == second.brand or _contains(first.brand, second.brand):
            return f"brands agree ({first.brand})"
        return f"brands differ ({first.brand} vs {second.brand})"
    if first.first_word and second.first_word:
        verb = "agree" if first.first_word == second.first_word else "differ"
        return f"titles' first words {verb} ({first.first_word} / {second.first_word})"
    return "no brand to compare"


def _describe_known_product(value: float, _first: ListingProfile, _second: ListingProfile) -> str:
    if math.isnan(value):
        return "no known product near either listing"
    return "nearest to the same known product" if value == 1.0 else "nearest to different known products"


def _describe_price(value: float, first: ListingProfile, second: ListingProfile) -> str:
    if math.isnan(value) or first.price is None or second.price is None:
        return "prices not comparable"
    shown = f"{first.price:.2f} vs {second.price:.2f}"
    return f"prices close ({shown})" if value >= 0.8 else f"prices differ ({shown})"


def _describe_colour(value: float, first: ListingProfile, second: ListingProfile) -> str:
    if math.isnan(value):
        return "no colour to compare"
    shown = f"{'/'.join(sorted(first.colours))} vs {'/'.join(sorted(second.colours))}"
    return f"colours agree ({'/'.join(sorted(first.colours))})" if value == 1.0 else f"colours differ ({shown})"


def _describe_similarity(label: str) -> Callable[[float, ListingProfile, ListingProfile], str]:
    def phrase(value: float, _first: ListingProfile, _second: ListingProfile) -> str:
        return f"{label} unknown (missing on a side)" if math.isnan(value) else f"{label} {_number(value)}"

    return phrase


def _describe_unit_counts(value: float, first: ListingProfile, second: ListingProfile) -> str:
    families = [family for family in UNIT_FAMILIES if family in first.quantities and family in second.quantities]
    conflicts = [f for f in families if not first.quantities[f] & second.quantities[f]]
    if conflicts:
        return _describe_unit(conflicts[0], first, second)
    if families:
        return f"{len(families)} stated quantit{'y' if len(families) == 1 else 'ies'} agree"
    return "no quantities to compare"


_DESCRIBERS: Mapping[str, Callable[[float, ListingProfile, ListingProfile], str]] = {
    "text_cosine": _describe_similarity("text cosine"),
    "image_cosine": _describe_similarity("image cosine"),
    "vector_abs_diff_mean": _describe_similarity("text vectors' mean difference"),
    "vector_abs_diff_max": _describe_similarity("text vectors' largest difference"),
    "vector_product_min": _describe_similarity("text vectors' most opposed dimension"),
    "vector_disagreeing_dims": _describe_similarity("share of opposed text dimensions"),
    "unit_agreements": _describe_unit_counts,
    "unit_conflicts": _describe_unit_counts,
    "brand_match": _describe_brand,
    "brand_in_other_text": _describe_brand,
    "first_word_match": _describe_brand,
    "price_ratio": _describe_price,
    "known_product_same": _describe_known_product,
    "token_jaccard": _describe_similarity("title word overlap"),
    "token_containment": _describe_similarity("title word containment"),
    "trigram_jaccard": _describe_similarity("title character overlap"),
    "length_ratio": _describe_similarity("title length ratio"),
    "numbers_jaccard": _describe_similarity("title number overlap"),
    "description_jaccard": _describe_similarity("description word overlap"),
    "colour_match": _describe_colour,
}
