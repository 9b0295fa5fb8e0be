"""Explanations of pair features: which feature groups are judged together, and a short phrase per
feature on one pair ("capacity differs (4 TB vs 6 TB)")."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from decider.features.codes import one_inside_the_other, within_one_edit
from decider.features.pair import IDENTIFIER_FEATURES, VECTOR_FEATURES, codes_in_other_text, feature_names
from decider.features.photos import describe_photo_hash
from decider.features.profile import ListingProfile
from decider.features.quantities import UNIT_FAMILIES, Quantity
from decider.known_products import KNOWN_PRODUCT_FEATURES

# Each group is judged together (its members move together, so removing one alone says little) and
# described by its first member.
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
    "photo_hash_bits": ("photo_hash_bits",),
    "known_product_same": KNOWN_PRODUCT_FEATURES,
}

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
    names = feature_names()
    if name not in names:
        raise KeyError(f"unknown feature {name!r}; known: {', '.join(names)}")
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
        found = codes_in_other_text(first, second)
        if not math.isnan(found) and found > 0:
            return "model number found in the other listing's text"
        one_side = first.codes or second.codes
        return f"model number on one side only ({one_side[0].display})" if one_side else "no model numbers to compare"
    pairs = [(a, b) for a in first.codes for b in second.codes]
    for test, phrase in (
        (lambda a, b: a.normalised == b.normalised, "model numbers agree ({a})"),
        (lambda a, b: one_inside_the_other(a.normalised, b.normalised), "model numbers agree ({a} ~ {b})"),
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
        if first.brand == second.brand or one_inside_the_other(first.brand, second.brand):
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
    "photo_hash_bits": lambda value, _first, _second: describe_photo_hash(value),
}
