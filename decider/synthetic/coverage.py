"""A generated catalog fills nearly every field; a real one often lacks brands, prices or model numbers.

A decider grown on generated listings alone rarely sees those fields missing, and its trees then send a
missing value down whichever branch held most training pairs, which can be the duplicate side (a demo
on abt-buy-catalog fell from F1 0.81 to 0.38 that way). Blanking each field of the generated listings
at the rate the catalog at hand lacks it lets the decider learn what a missing field means.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import Any

# The fields pair features read besides the title (decider.features.profile); the title is never blanked.
OPTIONAL_FIELDS = ("brand", "category", "price", "currency", "model_number", "seller_id", "description")


def field_coverage(listings: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """The share of ``listings`` that carry a value (not missing, None or empty) for each optional field."""
    counts = dict.fromkeys(OPTIONAL_FIELDS, 0)
    total = 0
    for listing in listings:
        total += 1
        for field in OPTIONAL_FIELDS:
            counts[field] += _has_value(listing.get(field))
    return {field: count / total if total else 1.0 for field, count in counts.items()}


def blank_fields_to_coverage(
    listings: Sequence[MutableMapping[str, Any]], coverage: Mapping[str, float], *, seed: int = 0
) -> dict[str, int]:
    """Blanks (sets to None) optional fields of ``listings`` in place until about ``coverage[field]`` of
    them carry each field; a field absent from ``coverage``, or already as rare, is left alone.

    Returns how many values of each field were blanked. Seeded, so a model fitted twice is the same model.
    """
    rng = random.Random(seed)
    present = field_coverage(listings)
    keep = {field: _keep_share(coverage.get(field, 1.0), present[field]) for field in OPTIONAL_FIELDS}
    blanked = dict.fromkeys(OPTIONAL_FIELDS, 0)
    for listing in listings:
        for field in OPTIONAL_FIELDS:
            if _has_value(listing.get(field)) and rng.random() >= keep[field]:
                listing[field] = None
                blanked[field] += 1
    return blanked


def _keep_share(target: float, present: float) -> float:
    """The share of a field's values to keep so that ``target`` of all listings keep one."""
    return min(1.0, target / present) if present else 1.0


def _has_value(value: Any) -> bool:
    return value is not None and value != "" and value != []
