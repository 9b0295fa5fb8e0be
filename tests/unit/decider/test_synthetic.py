"""decider.synthetic: a deterministic catalog whose truth, duplicates and near misses hold up."""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from itertools import combinations, pairwise
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decider.datasets.labeled import load_dataset
from decider.synthetic.catalog import SyntheticCatalog
from decider.synthetic.categories import CATEGORY_WEIGHTS
from decider.synthetic.generator import generate_catalog
from decider.synthetic.product_lines import CATALOGUE, CATALOGUE_SIZE
from decider.synthetic.spellings import spellings
from decider.synthetic.titles import PERTURBATIONS
from decider.synthetic.vocabulary import screen, storage
from tests.paths import REPO_ROOT

LISTING_FIELDS = {
    "listing_id",
    "title",
    "description",
    "brand",
    "category",
    "price",
    "currency",
    "seller_id",
    "model_number",
    "created_at",
}


@pytest.fixture(scope="module")
def catalog() -> SyntheticCatalog:
    return generate_catalog(1500, seed=7)


def catalog_digest(catalog: SyntheticCatalog) -> str:
    content = orjson.dumps([catalog.listings, catalog.truth, catalog.perturbations])
    return hashlib.sha256(content).hexdigest()


def by_id(catalog: SyntheticCatalog) -> dict[str, dict]:
    return {listing["listing_id"]: listing for listing in catalog.listings}


def changed_tokens(left: str, right: str) -> tuple[list[str], list[str]]:
    """Tokens of each title outside the longest common token runs."""
    a, b = left.split(), right.split()
    only_a: list[str] = []
    only_b: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            only_a += a[i1:i2]
            only_b += b[j1:j2]
    return only_a, only_b


def normalised_model(model: str) -> str:
    return re.sub(r"[^0-9a-z]", "", model.lower())


# --- determinism -----------------------------------------------------------------------------------


def test_a_seed_gives_the_same_catalog_every_time() -> None:
    first, second = generate_catalog(400, seed=3), generate_catalog(400, seed=3)

    assert catalog_digest(first) == catalog_digest(second)
    assert first.near_misses == second.near_misses
    assert first.pairs() == second.pairs()


def test_a_seed_gives_the_same_catalog_in_processes_with_other_hash_seeds() -> None:
    script = (
        "import hashlib, orjson; from decider.synthetic.generator import generate_catalog; "
        "c = generate_catalog(300, seed=11); "
        "print(hashlib.sha256(orjson.dumps([c.listings, c.truth, c.perturbations])).hexdigest())"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO_ROOT, env=environment
        )
        digests.add(result.stdout.strip())

    assert digests == {catalog_digest(generate_catalog(300, seed=11))}


def test_different_seeds_give_different_catalogs() -> None:
    first, second = generate_catalog(200, seed=1), generate_catalog(200, seed=2)

    assert [x["title"] for x in first.listings] != [x["title"] for x in second.listings]


# --- truth and listings ----------------------------------------------------------------------------


def test_truth_products_and_listings_agree(catalog: SyntheticCatalog) -> None:
    listing_ids = [listing["listing_id"] for listing in catalog.listings]
    members: dict[str, list[str]] = {}
    for listing_id in listing_ids:
        members.setdefault(catalog.truth[listing_id], []).append(listing_id)

    assert list(catalog.truth) == listing_ids
    assert len(catalog.products) == 1500
    assert set(members) == set(catalog.products)
    for cluster, product in catalog.products.items():
        assert product.cluster_id == cluster
        assert list(product.listing_ids) == members[cluster]
        assert product.canonical_listing_id in product.listing_ids
        assert catalog.perturbations[product.canonical_listing_id] == ()
        assert all(catalog.perturbations[i] for i in product.listing_ids if i != product.canonical_listing_id)


def test_ids_and_creation_times_follow_catalog_order(catalog: SyntheticCatalog) -> None:
    ids = [listing["listing_id"] for listing in catalog.listings]
    times = [datetime.fromisoformat(listing["created_at"]) for listing in catalog.listings]

    assert ids == [f"syn-{position:06d}" for position in range(len(ids))]
    assert all(moment.tzinfo == UTC for moment in times)
    assert all(earlier < later for earlier, later in pairwise(times))


def test_every_listing_is_a_valid_listing_created_event(catalog: SyntheticCatalog) -> None:
    for listing in catalog.listings:
        assert set(listing) == LISTING_FIELDS
        assert isinstance(listing["listing_id"], str) and listing["listing_id"]
        assert isinstance(listing["title"], str) and listing["title"].strip()
        assert listing["price"] is None or (isinstance(listing["price"], float) and listing["price"] >= 0)
        for optional in ("description", "brand", "category", "currency", "model_number"):
            assert listing[optional] is None or (isinstance(listing[optional], str) and listing[optional])
        assert isinstance(listing["seller_id"], str) and listing["seller_id"]
        assert orjson.loads(orjson.dumps(listing)) == listing


def test_listings_of_a_product_come_from_different_sellers(catalog: SyntheticCatalog) -> None:
    listings = by_id(catalog)
    for product in catalog.products.values():
        sellers = [listings[i]["seller_id"] for i in product.listing_ids]
        assert len(set(sellers)) == len(sellers)


def test_the_catalog_looks_like_a_marketplace_across_categories(catalog: SyntheticCatalog) -> None:
    categories = Counter(product.category for product in catalog.products.values())
    brands = {
        category: {p.brand for p in catalog.products.values() if p.category == category} for category in categories
    }

    assert set(categories) == set(CATEGORY_WEIGHTS)
    assert all(count >= 0.03 * len(catalog.products) for count in categories.values())
    assert all(len(names) >= 4 for names in brands.values())


def test_every_product_has_its_own_plain_title(catalog: SyntheticCatalog) -> None:
    listings = by_id(catalog)
    titles = [listings[p.canonical_listing_id]["title"] for p in catalog.products.values()]

    assert len(set(titles)) == len(titles)


def test_only_sizes_of_one_style_share_a_model_number(catalog: SyntheticCatalog) -> None:
    """Style codes of shoes and clothes do not encode the size; every other model number is unique."""
    by_model: dict[str, list] = {}
    for product in catalog.products.values():
        by_model.setdefault(product.model_number, []).append(product)
    shared = [group for group in by_model.values() if len(group) > 1]

    assert shared  # 1500 products include sizes of one style
    for group in shared:
        differing = {
            name for p in group[1:] for name in p.attributes if p.attributes[name] != group[0].attributes[name]
        }
        assert {p.line_index for p in group} == {group[0].line_index}
        assert differing <= {"size", "waist", "leg"}, (group[0].model_number, differing)


# --- duplicates ------------------------------------------------------------------------------------


def test_duplicates_share_the_cluster_and_vary_only_in_presentation(catalog: SyntheticCatalog) -> None:
    listings = by_id(catalog)
    duplicated = [p for p in catalog.products.values() if len(p.listing_ids) > 1]

    assert duplicated
    for product in duplicated:
        canonical = listings[product.canonical_listing_id]
        assert 2 <= len(product.listing_ids) <= 4
        for listing_id in product.listing_ids:
            listing = listings[listing_id]
            assert catalog.truth[listing_id] == product.cluster_id
            if listing_id == product.canonical_listing_id:
                continue
            assert listing["title"] != canonical["title"]
            assert listing["category"] in (product.category, None)
            if listing["model_number"] is not None:
                assert normalised_model(listing["model_number"]) == normalised_model(product.model_number)
            if listing["price"] is not None and canonical["price"] is not None:
                assert 0.9 * canonical["price"] - 0.01 <= listing["price"] <= 1.1 * canonical["price"] + 0.01


def test_every_kind_of_perturbation_occurs(catalog: SyntheticCatalog) -> None:
    used = Counter(name for names in catalog.perturbations.values() for name in names)

    assert set(used) == set(PERTURBATIONS)


def test_unit_spellings_include_the_usual_marketplace_forms() -> None:
    one_terabyte = storage(1000)
    fifty_five_inch = screen(55)

    assert {"1TB", "1 TB", "1000GB"} <= set(spellings(one_terabyte, one_terabyte.options[0]))
    assert {'55"', "55 inch", "55-in"} <= set(spellings(fifty_five_inch, fifty_five_inch.options[0]))


def test_duplicate_and_near_miss_rates_are_respected() -> None:
    n = 3000
    catalog = generate_catalog(n, duplicate_rate=0.35, near_miss_rate=0.25, seed=5)
    duplicated = sum(len(p.listing_ids) > 1 for p in catalog.products.values()) / n
    near = len(catalog.near_misses) / n
    tolerance = 4 * math.sqrt(0.35 * 0.65 / n)  # four standard deviations of a binomial share

    assert abs(duplicated - 0.35) < tolerance
    assert abs(near - 0.25) < tolerance


def test_zero_rates_give_one_listing_per_product_and_no_near_misses() -> None:
    catalog = generate_catalog(200, duplicate_rate=0.0, near_miss_rate=0.0, seed=1)

    assert len(catalog.listings) == 200
    assert catalog.near_misses == []
    assert catalog.pairs() == []


# --- near misses -------------------------------------------------------------------------------------


def test_near_misses_differ_from_their_sibling_only_in_the_varied_value_and_model(catalog: SyntheticCatalog) -> None:
    listings = by_id(catalog)

    assert len(catalog.near_misses) > 100
    for near in catalog.near_misses:
        product, sibling = catalog.products[near.cluster_id], catalog.products[near.sibling_cluster_id]
        changed = {name for name in product.attributes if product.attributes[name] != sibling.attributes[name]}
        title, sibling_title = (
            listings[product.canonical_listing_id]["title"],
            listings[sibling.canonical_listing_id]["title"],
        )
        only_here, only_there = changed_tokens(title, sibling_title)

        assert near.cluster_id != near.sibling_cluster_id
        assert near.kind in ("capacity", "size", "colour", "model")
        assert product.line_index == sibling.line_index
        assert changed == {near.axis}
        assert only_here or only_there
        assert (product.model_number in title.split()) == (sibling.model_number in sibling_title.split())
        assert set(only_here) <= set(f"{product.attributes[near.axis]} {product.model_number}".split())
        assert set(only_there) <= set(f"{sibling.attributes[near.axis]} {sibling.model_number}".split())


def test_near_misses_usually_move_to_the_neighbouring_value(catalog: SyntheticCatalog) -> None:
    """4TB -> 6TB rather than 4TB -> 20TB: the hard case is the adjacent variant."""
    steps = []
    for near in catalog.near_misses:
        if near.kind == "colour":
            continue
        product, sibling = catalog.products[near.cluster_id], catalog.products[near.sibling_cluster_id]
        axis = next(a for a in CATALOGUE[product.line_index].axes if a.name == near.axis)
        values = [spellings(axis, option)[0] for option in axis.options]
        steps.append(abs(values.index(product.attributes[near.axis]) - values.index(sibling.attributes[near.axis])))

    assert steps and Counter(steps)[1] / len(steps) > 0.8


# --- pairs and writing ----------------------------------------------------------------------------------


def test_pairs_hold_every_duplicate_pair_and_labels_agree_with_truth(catalog: SyntheticCatalog) -> None:
    labeled = catalog.pairs(n_negatives_per_positive=3)
    keys = [p.key() for p in labeled]
    positives = {p.key() for p in labeled if p.label == 1}
    expected = {frozenset(c) for p in catalog.products.values() for c in combinations(p.listing_ids, 2)}
    near_miss_pairs = {
        frozenset((a, b))
        for near in catalog.near_misses
        for a in catalog.products[near.cluster_id].listing_ids
        for b in catalog.products[near.sibling_cluster_id].listing_ids
    }
    negatives = [p for p in labeled if p.label == 0]

    assert len(set(keys)) == len(keys)
    assert all(p.left_id != p.right_id for p in labeled)
    assert positives == expected
    assert all((catalog.truth[p.left_id] == catalog.truth[p.right_id]) == (p.label == 1) for p in labeled)
    assert len(negatives) == 3 * len(positives)
    assert sum(p.key() in near_miss_pairs for p in negatives) >= min(len(near_miss_pairs), len(negatives) // 2)


def test_pairs_without_negatives_are_the_duplicate_pairs(catalog: SyntheticCatalog) -> None:
    labeled = catalog.pairs(n_negatives_per_positive=0)

    assert labeled and all(p.label == 1 for p in labeled)
    with pytest.raises(ValueError, match="n_negatives_per_positive"):
        catalog.pairs(n_negatives_per_positive=-1)


def test_write_then_load_round_trips_with_cluster_disjoint_splits(catalog: SyntheticCatalog, tmp_path: Path) -> None:
    catalog.write(tmp_path, valid_fraction=0.2)
    dataset = load_dataset(tmp_path)
    clusters_of = {
        split: {catalog.truth[i] for p in dataset.pairs(split) for i in (p.left_id, p.right_id)}
        for split in ("train", "valid")
    }

    assert list(dataset.listings.values()) == catalog.listings
    assert dataset.clusters() == catalog.truth
    assert dataset.splits() == ["all", "train", "valid"]
    assert dataset.pairs("all") == dataset.pairs("train") + dataset.pairs("valid")
    assert clusters_of["train"] and clusters_of["valid"]
    assert not clusters_of["train"] & clusters_of["valid"]
    assert dataset.duplicate_pairs() == {
        frozenset(c) for p in catalog.products.values() for c in combinations(p.listing_ids, 2)
    }


def test_rejects_impossible_arguments() -> None:
    with pytest.raises(ValueError, match="n_products"):
        generate_catalog(CATALOGUE_SIZE + 1)
    with pytest.raises(ValueError, match="n_products"):
        generate_catalog(-1)
    with pytest.raises(ValueError, match="duplicate_rate"):
        generate_catalog(10, duplicate_rate=1.5)
    with pytest.raises(ValueError, match="near_miss_rate"):
        generate_catalog(10, near_miss_rate=-0.1)


# --- properties -------------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_products=st.integers(min_value=0, max_value=60),
    duplicate_rate=st.floats(min_value=0.0, max_value=1.0),
    near_miss_rate=st.floats(min_value=0.0, max_value=1.0),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_any_small_catalog_is_consistent(
    n_products: int, duplicate_rate: float, near_miss_rate: float, seed: int
) -> None:
    catalog = generate_catalog(n_products, duplicate_rate=duplicate_rate, near_miss_rate=near_miss_rate, seed=seed)
    labeled = catalog.pairs(n_negatives_per_positive=2)

    assert len(catalog.products) == n_products
    assert sorted(catalog.truth.values()) == sorted(c for c, p in catalog.products.items() for _ in p.listing_ids)
    assert len(catalog.listings) == sum(len(p.listing_ids) for p in catalog.products.values())
    assert all((catalog.truth[p.left_id] == catalog.truth[p.right_id]) == (p.label == 1) for p in labeled)
    assert all(
        catalog.products[n.cluster_id].attributes != catalog.products[n.sibling_cluster_id].attributes
        for n in catalog.near_misses
    )
