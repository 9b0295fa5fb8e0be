"""decider.features: identifiers, units and the pair feature matrix, on real-looking listings."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decider.features.codes import extract_codes, within_one_edit
from decider.features.explain import EXPLANATION_GROUPS, describe
from decider.features.pair import (
    FEATURE_VERSION,
    NAN_WHEN_LISTING_MISSING,
    VECTOR_FEATURES,
    feature_names,
    pair_features,
)
from decider.features.quantities import UNIT_FAMILIES, extract_quantities
from decider.pairs import CandidatePairs
from decider.synthetic.catalog import SyntheticCatalog
from decider.synthetic.generator import generate_catalog

NAMES = feature_names()
COLUMN = {name: index for index, name in enumerate(NAMES)}
# Features that are shares, ratios or Jaccard indices: always within [0, 1] when defined.
UNIT_INTERVAL = [
    name
    for name in NAMES
    if name not in ("text_cosine", "image_cosine", "vector_product_min", "unit_agreements", "unit_conflicts")
]
DIM = 16


def listing(title: str, **fields: Any) -> dict[str, Any]:
    return {"listing_id": title[:20], "title": title, **fields}


def pairs_of(
    query_listings: Sequence[Mapping[str, Any]],
    candidate_listings: Sequence[Mapping[str, Any] | None],
    *,
    seed: int = 0,
) -> CandidatePairs:
    n = len(query_listings)
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(2, n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=2, keepdims=True)
    return CandidatePairs.from_vectors(
        [f"q{i}" for i in range(n)],
        [f"c{i}" for i in range(n)],
        vectors[0],
        vectors[1],
        query_listings=list(query_listings),
        candidate_listings=list(candidate_listings),
    )


def features_of(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, float]:
    return dict(zip(NAMES, pair_features(pairs_of([first], [second]))[0].tolist(), strict=True))


def normalised_codes(text: str) -> set[str]:
    return {code.normalised for code in extract_codes(text)}


# --- identifiers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("HDD 35 4TB Seagate IronWolf Pro NAS ST4000NE001", {"st4000ne001"}),
        ("WD Red Plus 4TB NAS Hard Drive WD40EFRX-68N32N0", {"wd40efrx68n32n0"}),
        ('Samsung 870 EVO 1TB 2.5" SATA III Internal SSD MZ-77E1T0B/EU', {"mz77e1t0beu", "mz77e1t0b"}),
        ('Samsung QE55Q80CATXXU 55" Q80C 4K QLED Smart TV', {"qe55q80catxxu", "q80c"}),
        ("Lavazza Qualità Rossa Coffee Beans 500g 5000270262639", {"5000270262639"}),
        ("Omega Seamaster Planet Ocean 600M Watch 215.30.46.51.01.001", {"21530465101001"}),
        ("HP 15s Laptop 1USMET#ABU", {"1usmetabu"}),
    ],
)
def test_codes_are_found_and_normalised(title: str, expected: set[str]) -> None:
    assert normalised_codes(title) == expected


@pytest.mark.parametrize(
    "not_a_code",
    ["4TB", "128 GB", "USB3.0", "1920x1080", "2-pack", "17-in-1", "2019", "3.5", "7200rpm", "DDR4", "Size2", "x2"],
)
def test_quantities_standards_and_years_are_not_codes(not_a_code: str) -> None:
    assert normalised_codes(f"Generic Product {not_a_code} Black") == set()


def test_code_display_keeps_the_sellers_spelling() -> None:
    (code,) = extract_codes("seagate ironwolf ST4000NE001 nas drive")
    assert (code.normalised, code.display) == ("st4000ne001", "ST4000NE001")


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("wd40efzx", "wd60efzx", True),  # one substitution: the neighbouring capacity
        ("s90c", "s90d", True),
        ("wd140efzx", "wd40efzx", True),  # one deletion
        ("st4000ne001", "st4000ne001", False),  # equal is not a neighbour
        ("mz77e1t0b", "mz77e500b", False),
        ("ab", "abcd", False),
    ],
)
def test_within_one_edit(first: str, second: str, expected: bool) -> None:
    assert within_one_edit(first, second) is expected
    assert within_one_edit(second, first) is expected


def test_identifier_features_on_agreeing_contained_neighbouring_and_conflicting_codes() -> None:
    plain = listing("Seagate IronWolf Pro 4TB NAS Hard Drive ST4000NE001")
    same = features_of(plain, listing("ST4000NE001 IRONWOLF PRO 4 TB"))
    assert (same["code_shared"], same["code_neighbour"]) == (1.0, 0.0)
    region = features_of(listing("Samsung 870 EVO 1TB MZ-77E1T0B/EU"), listing("Samsung 870 EVO 1 TB MZ77E1T0B"))
    assert region["code_shared"] == 1.0  # the region suffix is dropped
    contained = features_of(listing("WD Red 4TB WD40EFRX"), listing("WD Red 4TB WD40EFRX-68N32N0"))
    assert (contained["code_shared"], contained["code_contained"]) == (0.0, 1.0)
    neighbour = features_of(listing("WD Red Plus 4TB WD40EFZX"), listing("WD Red Plus 6TB WD60EFZX"))
    assert (neighbour["code_shared"], neighbour["code_neighbour"]) == (0.0, 1.0)
    conflict = features_of(plain, listing("Logitech H151 Stereo Headset 981-000589"))
    assert (conflict["code_shared"], conflict["code_contained"], conflict["code_neighbour"]) == (0.0, 0.0, 0.0)


def test_a_code_in_the_other_listings_description_counts() -> None:
    abt = listing("kenwood kca-ip200 black ipod direct cable kcaip200")
    buy = listing("kenwood ipod direct cable", description="direct cable for ipod, model kca-ip200, black")
    values = features_of(abt, buy)
    assert math.isnan(values["code_shared"])  # the Buy title has no code of its own
    assert values["code_in_other_text"] == 1.0


def test_model_number_field_is_a_code_whatever_its_shape() -> None:
    apple = listing("Apple AirPods Pro", model_number="MTJV3ZM/A")
    other = listing("Apple AirPods Pro MTJV3ZM/A")
    values = features_of(apple, other)
    assert values["code_in_other_text"] == 1.0
    assert features_of(apple, listing("Apple AirPods Pro", model_number="MTJV3ZM/A"))["model_number_match"] == 1.0
    assert features_of(apple, listing("Apple AirPods", model_number="MV7N2ZM/A"))["model_number_match"] == 0.0


# --- quantities -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "spellings"),
    [
        ("storage", ["4TB", "4 TB", "4000GB", "4tb", "4 Terabyte"]),
        ("storage", ["64GB", "64 GB", "64G", "64gb"]),
        ("screen", ['55"', "55 inch", "55-in", "55in", "55 Inch", "55''"]),
        ("battery", ["10000mAh", "10,000mAh", "10000 mAh", "10K mAh", "10000MAH"]),
        ("volume", ["1.5L", "1.5 L", "1500ml", "1.5 Litre", "1.5ltr", "150cl"]),
        ("weight", ["500g", "500 g", "0.5kg", "500gr"]),
        ("pack", ["2-pack", "2 pack", "Pack of 2", "2pk", "x2", "2 Pack"]),
        ("power", ["20W", "20 W", "20 Watt", "20w"]),
        ("frequency", ["2.4GHz", "2400 MHz"]),
        ("size", ["Size 9.5", "UK 9.5", "UK Size 9.5"]),
        ("size", ["Size XL", "(XL)", "Sz XL"]),
    ],
)
def test_unit_spellings_normalise_to_one_value(family: str, spellings: list[str]) -> None:
    values = {extract_quantities(f"product name {spelling} black".lower()).get(family) for spelling in spellings}
    assert len(values) == 1 and None not in values, values


@pytest.mark.parametrize(
    ("text", "family", "absent"),
    [
        ("sata 6 gb/s interface", "storage", True),  # a rate, not a capacity
        ("300 mbps wifi", "storage", True),
        ("sdsquab-064g-gn6ma", "storage", True),  # inside a code
        ("17-in-1 card reader", "screen", True),
        ("coffee beans 500g", "storage", True),
        ("coffee beans 500g", "weight", False),
        ("4,000mah", "battery", False),
    ],
)
def test_unit_near_misses(text: str, family: str, absent: bool) -> None:
    assert (family not in extract_quantities(text)) is absent


def test_unit_features_agree_conflict_or_are_missing() -> None:
    four = listing("Seagate IronWolf 4TB NAS Hard Drive 3.5 inch")
    values = features_of(four, listing("IronWolf NAS HDD 4000GB 3.5in"))
    assert (values["unit_storage"], values["unit_screen"], values["unit_agreements"]) == (1.0, 1.0, 2.0)
    values = features_of(four, listing("Seagate IronWolf 6TB NAS Hard Drive 3.5 inch"))
    assert (values["unit_storage"], values["unit_conflicts"]) == (0.0, 1.0)
    values = features_of(four, listing("Seagate IronWolf NAS Hard Drive"))
    assert math.isnan(values["unit_storage"]) and values["unit_conflicts"] == 0.0


# --- brand, price, colour, text -------------------------------------------------------------------


def test_brand_price_and_colour_features() -> None:
    first = listing("Sony WH-1000XM5 Headphones Black", brand="Sony", price=299.0, currency="GBP")
    second = listing("WH-1000XM5 Wireless Headphones Silver", brand="SONY", price=279.0, currency="GBP")
    values = features_of(first, second)
    assert values["brand_match"] == 1.0 and values["brand_in_other_text"] == 1.0
    assert values["price_ratio"] == pytest.approx(279 / 299)
    assert values["colour_match"] == 0.0
    other_currency = features_of(first, {**second, "currency": "EUR"})
    assert math.isnan(other_currency["price_ratio"])  # no exchange rates: not comparable
    assert features_of(first, {**second, "brand": "Bose"})["brand_match"] == 0.0


def test_text_overlap_features_on_identical_titles() -> None:
    same = listing("Logitech C270 HD Webcam 720p")
    values = features_of(same, dict(same))
    for name in ("token_jaccard", "token_containment", "trigram_jaccard", "length_ratio", "numbers_jaccard"):
        assert values[name] == pytest.approx(1.0), name


# --- the matrix -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> SyntheticCatalog:
    return generate_catalog(600, seed=21)


def test_features_are_symmetric(catalog: SyntheticCatalog) -> None:
    by_id = {item["listing_id"]: item for item in catalog.listings}
    labeled = catalog.pairs(2)
    left, right = [by_id[p.left_id] for p in labeled], [by_id[p.right_id] for p in labeled]
    forward = pairs_of(left, right)
    backward = CandidatePairs.from_vectors(
        forward.candidate_ids,
        forward.query_ids,
        forward.candidate_text,
        forward.query_text,
        query_listings=right,
        candidate_listings=left,
    )
    np.testing.assert_allclose(pair_features(forward), pair_features(backward), rtol=1e-6, atol=1e-6)


def test_near_miss_products_show_a_conflict_and_duplicates_rarely_do(catalog: SyntheticCatalog) -> None:
    """Each near miss differs from its sibling in one axis; that difference must surface somewhere."""
    by_id = {item["listing_id"]: item for item in catalog.listings}
    canonical = {cluster: by_id[product.canonical_listing_id] for cluster, product in catalog.products.items()}
    near = [(canonical[n.cluster_id], canonical[n.sibling_cluster_id]) for n in catalog.near_misses]
    duplicates = [
        (by_id[product.listing_ids[0]], by_id[other])
        for product in catalog.products.values()
        for other in product.listing_ids[1:]
    ]
    near_conflicts = conflict_share(near)
    duplicate_conflicts = conflict_share(duplicates)
    assert len(near) > 50 and len(duplicates) > 100
    assert near_conflicts > 0.9, near_conflicts
    assert duplicate_conflicts < 0.02, duplicate_conflicts


def conflict_share(pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> float:
    matrix = pair_features(pairs_of([a for a, _ in pairs], [b for _, b in pairs]))
    column = {name: matrix[:, COLUMN[name]] for name in NAMES}
    differs = (
        ((column["code_shared"] == 0) & (column["code_contained"] == 0))
        | (column["model_number_match"] == 0)
        | (column["colour_match"] < 1)
        | np.any([column[f"unit_{family}"] < 1 for family in UNIT_FAMILIES], axis=0)
    )
    return float(differs.mean())


def test_synthetic_model_numbers_with_digits_are_codes(catalog: SyntheticCatalog) -> None:
    numbers = [p.model_number for p in catalog.products.values() if any(c.isdigit() for c in p.model_number)]
    found = [n for n in numbers if "".join(ch for ch in n.lower() if ch.isalnum()) in normalised_codes(n)]
    assert len(found) / len(numbers) > 0.97, sorted(set(numbers) - set(found))[:10]


def test_missing_listings_give_nan_listing_features_only() -> None:
    present = listing("Seagate IronWolf 4TB ST4000VN006", price=90.0)
    pairs = pairs_of([present, present, present], [None, {"title": "x"}])  # the third has no entry at all
    matrix = pair_features(pairs)
    listing_columns = [COLUMN[name] for name in NAN_WHEN_LISTING_MISSING]
    vector_columns = [COLUMN[name] for name in VECTOR_FEATURES if name != "image_cosine"]
    assert np.isnan(matrix[[0, 2]][:, listing_columns]).all()
    assert not np.isnan(matrix[1, listing_columns]).all()  # a bare title still compares
    assert np.isfinite(matrix[:, vector_columns]).all()
    assert np.isnan(matrix[:, COLUMN["image_cosine"]]).all()


def test_every_feature_belongs_to_one_explanation_group() -> None:
    members = [name for group in EXPLANATION_GROUPS.values() for name in group]
    assert sorted(members) == sorted(NAMES)
    assert all(lead in NAMES for lead in EXPLANATION_GROUPS)


def test_empty_batch_and_version() -> None:
    empty = CandidatePairs.from_vectors([], [], np.zeros((0, DIM), np.float32), np.zeros((0, DIM), np.float32))
    assert pair_features(empty).shape == (0, len(NAMES))
    assert FEATURE_VERSION and len(set(NAMES)) == len(NAMES)


def test_describe_gives_readable_phrases() -> None:
    four = listing("Seagate IronWolf Pro 4TB ST4000NE001")
    six = listing("Seagate IronWolf Pro 6TB ST6000NE001")
    assert describe("code_shared", 1.0, four, dict(four)) == "model numbers agree (ST4000NE001)"
    assert describe("code_neighbour", 1.0, four, six) == "neighbouring model numbers (ST4000NE001 vs ST6000NE001)"
    assert describe("unit_storage", 0.0, four, six) == "capacity differs (4 TB vs 6 TB)"
    assert describe("text_cosine", 0.9312, four, six) == "text cosine 0.931"
    with pytest.raises(KeyError, match="unknown feature"):
        describe("no_such_feature", 0.0, four, six)


# --- properties -----------------------------------------------------------------------------------

_field_values = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)
_product_words = st.sampled_from(
    ["4TB", "ST4000NE001", "Seagate", '55"', "2-pack", "MZ-77E1T0B/EU", "x2", "Black", "3,5", "1.5L", "Size XL", "ü", "#"]
)
_titles = st.one_of(st.text(max_size=80), st.lists(_product_words, max_size=8).map(" ".join))
_listings = st.fixed_dictionaries(
    {"title": _titles},
    optional={
        name: _field_values for name in ("brand", "price", "model_number", "description", "category", "currency")
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    queries=st.lists(_listings, min_size=1, max_size=4),
    candidates=st.lists(st.one_of(st.none(), _listings), max_size=4),
)
def test_pair_features_never_raise_and_stay_in_range(
    queries: list[dict[str, Any]], candidates: list[dict[str, Any] | None]
) -> None:
    pairs = pairs_of(queries, candidates)
    matrix = pair_features(pairs)
    assert matrix.shape == (len(queries), len(NAMES)) and matrix.dtype == np.float32
    assert not np.isinf(matrix).any()
    always_defined = [COLUMN[name] for name in VECTOR_FEATURES if name != "image_cosine"]
    assert not np.isnan(matrix[:, always_defined]).any()
    bounded = matrix[:, [COLUMN[name] for name in UNIT_INTERVAL]]
    assert np.all(np.isnan(bounded) | ((bounded >= 0) & (bounded <= 1 + 1e-6)))
    for row, query in enumerate(queries):
        candidate = candidates[row] if row < len(candidates) and candidates[row] is not None else {}
        for name in NAMES:
            assert describe(name, float(matrix[row, COLUMN[name]]), query, candidate)


# --- marketplace titles (Indonesian / English) ----------------------------------------------------


@pytest.mark.parametrize(
    ("family", "spellings"),
    [
        ("weight", ["500gr", "500 gr", "500 gram", "500grm", "0,5 kg", "0.5 kilo", "500 grams"]),
        ("weight", ["1kg", "1 kilo", "1 kilogram", "1000 gr", "1.000 gram"]),
        ("volume", ["250ml", "250 mili", "250 mililiter", "0,25 liter"]),
        ("volume", ["1 liter", "1 ltr", "1 lt", "1000ml", "1.000 ml"]),
        ("pack", ["12 pcs", "12pc", "12 biji", "12 lembar", "12 sachet", "isi 12", "12's", "x12", "1 lusin"]),
        ("battery", ["10.000mah", "10000 mAh", "10,000mAh"]),
        ("size", ["Size XL", "ukuran XL", "uk XL"]),
    ],
)
def test_marketplace_unit_spellings_normalise_to_one_value(family: str, spellings: list[str]) -> None:
    values = {extract_quantities(f"produk {spelling} murah".lower()).get(family) for spelling in spellings}
    assert len(values) == 1 and None not in values, values


@pytest.mark.parametrize(
    ("text", "family", "expected"),
    [
        ("masker isi 500ml", "pack", None),  # "isi" before an amount is the amount, not a count
        ("masker isi 500ml", "volume", {500.0}),
        ("beras isi 5 kg", "pack", None),
        ("spidol isi 12 warna", "pack", {12.0}),
        ("vitamin c 500mg", "weight", {0.5}),
        ("case iphone 6s", "pack", None),
    ],
)
def test_marketplace_unit_near_misses(text: str, family: str, expected: set[float] | None) -> None:
    values = extract_quantities(text).get(family)
    assert (set(values) if values else None) == expected


def test_indonesian_and_english_colours_meet() -> None:
    black_bag = listing("Tas Selempang Wanita HITAM")
    assert features_of(black_bag, listing("Women Sling Bag Black"))["colour_match"] == 1.0
    assert features_of(black_bag, listing("Tas Selempang Wanita Putih"))["colour_match"] == 0.0
    assert features_of(listing("Hijab Merah Muda"), listing("Pink Hijab"))["colour_match"] == 1.0
    assert features_of(listing("Kaos Abu-abu"), listing("Grey T-Shirt"))["colour_match"] == 1.0


def test_boilerplate_and_language_do_not_count_as_differences() -> None:
    seller = listing("[READY STOCK] Tas Ransel Anak ORIGINAL 100% COD Murah!!! ❤")
    other = listing("tas ransel anak")
    values = features_of(seller, other)
    assert values["token_jaccard"] == 1.0 and values["trigram_jaccard"] == 1.0
    assert values["first_word_match"] == 1.0  # "READY" is not the product's first word
    english = features_of(listing("Sepatu Anak Hitam 500gr"), listing("Kids Shoes Black 500 gram"))
    assert english["token_jaccard"] == 1.0 and english["numbers_jaccard"] == 1.0


def test_percentages_of_boilerplate_are_not_product_numbers() -> None:
    values = features_of(listing("Serum Niacinamide 10% ORIGINAL 100% 20ml"), listing("Serum Niacinamide 10% 20 ml"))
    assert values["numbers_jaccard"] == 1.0
    assert features_of(listing("Serum Niacinamide 10%"), listing("Serum Niacinamide 5%"))["numbers_jaccard"] == 0.0


def test_titles_exported_as_escaped_bytes_read_as_their_text() -> None:
    values = features_of(listing(r"Nescafe \xc3\x89clair Latte 220ml"), listing("Nescafe Eclair Latte 220 ml"))
    assert values["token_jaccard"] == 1.0 and values["unit_volume"] == 1.0
