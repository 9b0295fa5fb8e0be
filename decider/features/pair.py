"""The pair features a decider reads: their names and order, and the matrix for a batch of pairs.

Vectors (cosine, element-wise differences), identifiers, units, brand, price, text overlap, photo
hashes and,
with known products, the known-product features. Every feature is symmetric (swapping query and
candidate gives the same value) and is NaN where it is undefined, typically because one side lacks
the field (no model number, no price, no capacity, a candidate listing the caller could not
supply). A gradient-boosted tree treats NaN as its own branch, so "unknown" never masquerades as
"disagrees". Pure Python + numpy; see ``benchmarks/bench_decider_pairs.py`` for the cost per pair.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from decider.features.codes import Code, one_inside_the_other, within_one_edit
from decider.features.photos import photo_hash_bits
from decider.features.profile import ListingProfile
from decider.features.quantities import UNIT_FAMILIES
from decider.known_products import KNOWN_PRODUCT_FEATURES, KnownProducts
from decider.pairs import CandidatePairs

# Bump whenever a feature's definition, order or extraction changes: saved deciders record it and
# refuse to load under another, since their trees split on the old values.
FEATURE_VERSION = "4"

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
    "photo_hash_bits",
)
_FEATURE_NAMES: tuple[str, ...] = (*VECTOR_FEATURES, *_LISTING_FEATURES, *KNOWN_PRODUCT_FEATURES)

# Features that go NaN when a listing is missing are exactly the listing features; the vector
# features are NaN only where image_similarity is (no image on one side).
NAN_WHEN_LISTING_MISSING = frozenset(_LISTING_FEATURES)


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
        features[row, first_listing_column:end_listing_column] = [
            *listing_pair_features(query_profile, candidate_profile),
            photo_hash_bits(query, candidate),
        ]
    return features


def listing_pair_features(first: ListingProfile, second: ListingProfile) -> list[float]:
    """The listing features of one pair read from their profiles: ``feature_names()`` after the vector
    features, up to the photo hash (read from the raw fields)."""
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
    in_other_text = codes_in_other_text(first, second)
    model_number = _model_number_match(first.model_number, second.model_number)
    if not first.codes or not second.codes:
        return [math.nan, math.nan, math.nan, math.nan, in_other_text, model_number]
    left = {code.normalised for code in first.codes}
    right = {code.normalised for code in second.codes}
    shared = bool(left & right)
    contained = not shared and any(one_inside_the_other(a, b) for a in left for b in right)
    neighbour = not shared and not contained and any(within_one_edit(a, b) for a in left for b in right)
    prefix = max(_common_prefix_ratio(a, b) for a in left for b in right)
    return [float(shared), float(contained), float(neighbour), prefix, in_other_text, model_number]


def _common_prefix_ratio(first: str, second: str) -> float:
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return length / max(len(first), len(second))


def codes_in_other_text(first: ListingProfile, second: ListingProfile) -> float:
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
    return float(first == second or one_inside_the_other(first, second))


def _brand_features(first: ListingProfile, second: ListingProfile) -> list[float]:
    if first.brand and second.brand:
        match = float(first.brand == second.brand or one_inside_the_other(first.brand, second.brand))
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
