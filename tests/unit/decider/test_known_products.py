"""decider.known_products: neighbourhood features, the own-listings rule, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from decider.errors import DeciderError
from decider.features.explain import EXPLANATION_GROUPS, describe
from decider.known_products import KNOWN_PRODUCT_FEATURES, KNOWN_PRODUCTS_FILE, KnownProducts
from decider.pairs import CandidatePairs

SAME, SHARED_SIMILARITY, SHARED_COUNT, SIMILARITY = range(len(KNOWN_PRODUCT_FEATURES))


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def known_catalog() -> KnownProducts:
    """Two products, two known listings each, on two well-separated axes."""
    vectors = {
        "a1": unit(1, 0.05, 0, 0),
        "a2": unit(1, -0.05, 0, 0),
        "b1": unit(0, 0, 1, 0.05),
        "b2": unit(0, 0, 1, -0.05),
    }
    products = {"a1": "A", "a2": "A", "b1": "B", "b2": "B"}
    return KnownProducts.from_labeled(products, vectors, list(vectors))


def pairs_of(*rows: tuple[str, np.ndarray, str, np.ndarray]) -> CandidatePairs:
    return CandidatePairs.from_vectors(
        [row[0] for row in rows],
        [row[2] for row in rows],
        np.array([row[1] for row in rows]),
        np.array([row[3] for row in rows]),
    )


def test_new_listings_near_one_product_agree_and_near_two_products_disagree() -> None:
    known = known_catalog()
    features = known.pair_features(
        pairs_of(
            ("new1", unit(1, 0.1, 0.1, 0), "new2", unit(1, 0, 0.2, 0)),
            ("new3", unit(1, 0, 0.6, 0), "new4", unit(0.6, 0, 1, 0)),
        )
    )
    assert features.shape == (2, len(KNOWN_PRODUCT_FEATURES))
    assert features[0, SAME] == 1.0 and features[1, SAME] == 0.0
    assert features[0, SHARED_SIMILARITY] > 0.9
    assert features[0, SIMILARITY] > features[1, SIMILARITY]


def test_a_pairs_own_listings_never_count_as_its_known_products() -> None:
    """Otherwise a labeled pair would read its own label through its own listings' products."""
    known = known_catalog()
    a1 = known.vectors[known.listing_ids.index("a1")]
    features = known.pair_features(pairs_of(("a1", a1, "new", a1), ("other", a1, "new", a1)))
    assert features[1, SIMILARITY] == pytest.approx(1.0, abs=1e-6)  # a1 itself is the nearest
    assert features[0, SIMILARITY] < 0.999  # a1 is left out for its own pair: a2 is the nearest
    assert features[0, SAME] == 1.0


def test_labeled_pair_of_two_known_listings_uses_the_rest_of_the_catalog() -> None:
    known = known_catalog()
    # a1 and b1 as a pair: each sees only the other product's remaining listing plus its own product's.
    features = known.pair_features(pairs_of(("a1", known.vectors[0], "b1", known.vectors[2])))
    assert features[0, SAME] == 0.0
    assert features[0, SIMILARITY] > 0.99  # a2 and b2 are right next to them


def test_without_known_listings_the_features_are_missing() -> None:
    empty = KnownProducts([], [], np.zeros((0, 4), dtype=np.float32))
    features = empty.pair_features(pairs_of(("p", unit(1, 0, 0, 0), "q", unit(0, 1, 0, 0))))
    assert np.isnan(features).all()


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    known = known_catalog()
    known.save(tmp_path)
    loaded = KnownProducts.load(tmp_path, known.version)
    assert loaded.listing_ids == known.listing_ids and loaded.product_ids == known.product_ids
    pairs = pairs_of(("n1", unit(1, 0, 0.3, 0), "n2", unit(0.2, 0, 1, 0)))
    np.testing.assert_array_equal(loaded.pair_features(pairs), known.pair_features(pairs))


def test_load_refuses_a_file_from_another_training_run(tmp_path: Path) -> None:
    known_catalog().save(tmp_path)
    with pytest.raises(DeciderError, match="do not match"):
        KnownProducts.load(tmp_path, "0123456789ab")
    (tmp_path / KNOWN_PRODUCTS_FILE).unlink()
    with pytest.raises(DeciderError, match="missing"):
        KnownProducts.load(tmp_path, "0123456789ab")


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="one vector and one product per listing"):
        KnownProducts(["a", "b"], ["A"], np.zeros((2, 4), dtype=np.float32))


def test_explanations_name_the_known_product_evidence() -> None:
    assert describe("known_product_same", 1.0, {}, {}) == "nearest to the same known product"
    assert describe("known_product_same", 0.0, {}, {}) == "nearest to different known products"
    assert "no known product" in describe("known_product_same", float("nan"), {}, {})
    assert set(EXPLANATION_GROUPS["known_product_same"]) == set(KNOWN_PRODUCT_FEATURES)


def reference_features(known: KnownProducts, pairs: CandidatePairs, k: int = 5) -> np.ndarray:
    """The definition, one pair at a time."""

    def neighbourhood(vector: np.ndarray, own: set[str]) -> list[tuple[str, float]]:
        ranked = sorted(zip(known.listing_ids, known.product_ids, known.vectors @ vector), key=lambda t: -t[2])
        return [(product, float(s)) for listing, product, s in ranked if listing not in own][:k]

    rows = []
    for q, c, qv, cv in zip(pairs.query_ids, pairs.candidate_ids, pairs.query_text, pairs.candidate_text):
        first, second = neighbourhood(qv, {q, c}), neighbourhood(cv, {q, c})
        closest_first, closest_second = {}, {}
        for product, s in first:
            closest_first.setdefault(product, s)
        for product, s in second:
            closest_second.setdefault(product, s)
        shared = [min(s, closest_second[p]) for p, s in closest_first.items() if p in closest_second]
        rows.append([first[0][0] == second[0][0], max(shared, default=0.0), len(shared), min(first[0][1], second[0][1])])
    return np.array(rows, dtype=np.float32)


def test_vectorised_features_match_the_definition() -> None:
    rng = np.random.default_rng(3)

    def units(n: int) -> np.ndarray:
        vectors = rng.normal(size=(n, 6)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    known = KnownProducts([f"k{i}" for i in range(40)], [f"p{i % 9}" for i in range(40)], units(40))
    # Queries repeat (as in a micro-batch) and some pair members are known listings themselves.
    query_ids = [f"q{i % 7}" for i in range(30)] + ["k3", "k4"]
    candidate_ids = [f"c{i}" for i in range(30)] + ["k5", "q0"]
    query_vectors = {i: v for i, v in zip(sorted(set(query_ids)), units(len(set(query_ids))))}
    query_vectors.update({"k3": known.vectors[3], "k4": known.vectors[4]})
    candidate_text = units(32)
    candidate_text[30] = known.vectors[5]
    pairs = CandidatePairs.from_vectors(
        query_ids, candidate_ids, np.array([query_vectors[i] for i in query_ids]), candidate_text
    )
    np.testing.assert_allclose(known.pair_features(pairs), reference_features(known, pairs), rtol=1e-5, atol=1e-6)
