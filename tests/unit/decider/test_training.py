import numpy as np

from decider.datasets.labeled import Dataset, LabeledPair
from decider.training.mining import lexical_neighbour_pairs, mine_candidate_pairs
from decider.training.products import clusters_from_positives, known_products


def test_products_implied_by_positive_pairs_are_transitive() -> None:
    pairs = [LabeledPair("a", "b", 1), LabeledPair("b", "c", 1), LabeledPair("d", "e", 1), LabeledPair("a", "d", 0)]
    clusters = clusters_from_positives(pairs)
    assert clusters["a"] == clusters["b"] == clusters["c"] != clusters["d"] == clusters["e"]
    assert "x" not in clusters


def test_mined_pairs_of_other_products_are_negatives_and_never_pairs_another_split_labels() -> None:
    listings = {i: {"listing_id": i, "title": i} for i in "abcdef"}
    train = [LabeledPair("a", "b", 1), LabeledPair("c", "d", 1), LabeledPair("e", "f", 1)]
    test = [LabeledPair("a", "c", 0)]
    dataset = Dataset(name="t", root=None, listings=listings, split_pairs={"train": train, "test": test})  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    vectors = {i: v / np.linalg.norm(v) for i, v in zip(listings, rng.normal(size=(6, 8)).astype(np.float32))}
    mined = mine_candidate_pairs(dataset, train, vectors, dense=5)
    keys = {frozenset((p.left_id, p.right_id)) for p in mined}
    assert mined and all(p.label == 0 for p in mined)
    assert frozenset("ab") not in keys and frozenset("cd") not in keys and frozenset("ef") not in keys
    assert frozenset("ac") not in keys, "a pair the test split labels must never be trained on"
    assert len(keys) == len(mined) == 15 - 3 - 1  # all pairs of 6 listings, less 3 duplicates and the test pair


def test_mined_candidate_pairs_label_duplicates_and_near_misses_by_product() -> None:
    titles = {"a": "acme drill 500w", "b": "acme drill 500 w", "f": "drill acme 500w pro", "c": "acme kettle", "d": "kettle"}
    listings = {i: {"listing_id": i, "title": t} for i, t in titles.items()}
    train = [LabeledPair("a", "b", 1), LabeledPair("b", "f", 1), LabeledPair("c", "d", 1)]
    dataset = Dataset(name="t", root=None, listings=listings, split_pairs={"train": train})  # type: ignore[arg-type]
    vectors = {i: np.eye(5, dtype=np.float32)[n] for n, i in enumerate(titles)}  # vectors say nothing
    mined = mine_candidate_pairs(dataset, train, vectors, dense=0, lexical=2)
    labels = {frozenset((p.left_id, p.right_id)): p.label for p in mined}
    assert frozenset("ab") not in labels, "the split's own labeled pairs are already in it"
    assert labels[frozenset("af")] == 1, "a duplicate the positives imply (a-b-f)"
    assert 0 in (labels.get(frozenset("ac")), labels.get(frozenset("bc"))), "a near-miss sharing the brand"


def test_lexical_neighbours_rank_a_shared_rare_token_first() -> None:
    ids = ["q", "photo", "common1", "common2"]
    documents = ["photoabc123 usb cable", "photoabc123 headphones", "usb cable", "usb cable black"]
    pairs = lexical_neighbour_pairs(ids, documents, neighbours=1)
    assert ("photo", "q") in pairs or ("q", "photo") in pairs


def test_known_products_are_the_train_listings_with_a_product() -> None:
    listings = {i: {"listing_id": i, "title": i} for i in "abcdefg"}
    train = [LabeledPair("a", "b", 1), LabeledPair("b", "c", 1), LabeledPair("d", "e", 1), LabeledPair("a", "f", 0)]
    valid = [LabeledPair("g", "a", 1)]
    dataset = Dataset(name="t", root=None, listings=listings, split_pairs={"train": train, "valid": valid})  # type: ignore[arg-type]
    rng = np.random.default_rng(1)
    vectors = {i: v / np.linalg.norm(v) for i, v in zip(listings, rng.normal(size=(7, 8)).astype(np.float32))}
    known = known_products(dataset, train, vectors)
    # f has no duplicate, so no product is known for it; g is a valid listing and stays unseen.
    assert known.listing_ids == ["a", "b", "c", "d", "e"]
    product = dict(zip(known.listing_ids, known.product_ids))
    assert product["a"] == product["b"] == product["c"] != product["d"] == product["e"]
