"""Generated listings get the fields a real catalog lacks blanked at its rate, deterministically."""

from __future__ import annotations

import copy

from decider.synthetic.coverage import OPTIONAL_FIELDS, blank_fields_to_coverage, field_coverage
from decider.synthetic.generator import generate_catalog


def test_coverage_counts_only_real_values() -> None:
    listings = [
        {"title": "a", "brand": "Sony", "price": 0.0, "description": ""},
        {"title": "b", "brand": None, "price": 10.5},
        {"title": "c"},
        {"title": "d", "brand": "Bose", "model_number": "AM5"},
    ]
    coverage = field_coverage(listings)
    assert coverage["brand"] == 0.5
    assert coverage["price"] == 0.5, "a price of 0.0 is a value"
    assert coverage["description"] == 0.0, "an empty description is none"
    assert coverage["model_number"] == 0.25
    assert field_coverage([]) == dict.fromkeys(OPTIONAL_FIELDS, 1.0)


def test_fields_are_blanked_at_the_catalog_rate_and_titles_kept() -> None:
    listings = generate_catalog(n_products=300, seed=5).listings
    before = field_coverage(listings)
    assert before["brand"] > 0.9 and before["category"] > 0.9 and before["description"] < 0.9
    titles = [listing["title"] for listing in listings]
    target = {"brand": 0.5, "category": 0.3, "model_number": 0.0, "description": 0.9}

    blanked = blank_fields_to_coverage(listings, target, seed=1)

    after = field_coverage(listings)
    assert abs(after["brand"] - 0.5) < 0.06 and abs(after["category"] - 0.3) < 0.06
    assert after["model_number"] == 0.0
    assert blanked["description"] == 0, "a field already rarer than in the target stays"
    assert blanked["price"] == 0 and after["price"] == before["price"], "a field not in the target stays"
    assert [listing["title"] for listing in listings] == titles


def test_the_same_seed_blanks_the_same_values() -> None:
    listings = generate_catalog(n_products=80, seed=6).listings
    first, second = copy.deepcopy(listings), copy.deepcopy(listings)
    target = {"brand": 0.3, "price": 0.6}
    blank_fields_to_coverage(first, target, seed=7)
    blank_fields_to_coverage(second, target, seed=7)
    assert first == second
    other = copy.deepcopy(listings)
    blank_fields_to_coverage(other, target, seed=8)
    assert other != first
