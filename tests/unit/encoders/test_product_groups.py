"""encoders.product_groups: one union-find for fine-tuning, training, the generator and scoring."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from encoders.product_groups import group_roots, pairs_within_groups


def test_chains_join_into_one_group_and_loners_keep_their_own() -> None:
    roots = group_roots([("a", "b"), ("c", "b"), ("x", "y")], nodes=["a", "b", "c", "x", "y", "z"])
    assert roots["a"] == roots["b"] == roots["c"] != roots["x"] == roots["y"]
    assert roots["z"] == "z"
    assert list(roots) == ["a", "b", "c", "x", "y", "z"]  # nodes first, in the order given


def test_representatives_follow_the_link_order() -> None:
    # (a, b) hangs a's group under b's: the representative is the last link's right-hand root.
    assert group_roots([("a", "b"), ("b", "c")])["a"] == "c"
    assert group_roots([("b", "c"), ("a", "b")])["a"] == "c"
    assert group_roots([("c", "b"), ("b", "a")])["c"] == "a"


@given(st.integers(1, 30).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1))))))
def test_groups_are_the_graphs_connected_components(sized_links: tuple[int, list[tuple[int, int]]]) -> None:
    n, links = sized_links
    roots = group_roots(links, range(n))
    rows, cols = zip(*links) if links else ((), ())
    _, labels = connected_components(coo_matrix(([1] * len(links), (rows, cols)), shape=(n, n)), directed=False)
    assert all((roots[i] == roots[j]) == (labels[i] == labels[j]) for i in range(n) for j in range(n))


def test_pairs_within_groups_are_every_unordered_pair_of_a_group() -> None:
    pairs = pairs_within_groups({"a": "1", "b": "1", "c": "1", "d": "2", "e": "3", "f": "3"})
    assert pairs == {frozenset(p) for p in [("a", "b"), ("a", "c"), ("b", "c"), ("e", "f")]}
