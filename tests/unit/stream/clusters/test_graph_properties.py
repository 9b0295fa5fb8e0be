"""Properties of the merge logic on random event sequences, against a plain model of the standing links."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from stream.clusters.graph import ClusterGraph
from stream.clusters.guard import Guard
from stream.clusters.state import LISTING_PREFIX

from .helpers import clusters, found_cause, links, partition, retracted_cause

IDS = [f"l{i}" for i in range(8)]
SCORES = st.sampled_from([0.5, 0.9, 0.95, 0.99, 1.0])
FOUND = st.tuples(st.just("found"), st.sampled_from(IDS), st.lists(st.tuples(st.sampled_from(IDS), SCORES), max_size=3))
RETRACT = st.tuples(st.just("retract"), st.sampled_from(IDS), st.lists(st.sampled_from(IDS), min_size=1, max_size=2))
EVENTS = st.lists(st.one_of(FOUND, RETRACT), max_size=25)
NO_GUARD = Guard(free_size=len(IDS), base_score=0.0, max_size=len(IDS))


def apply(graph: ClusterGraph, events: list[tuple[str, str, Any]]) -> dict[str, tuple[str, set[str]]]:
    """Applies the events; returns the plain model: each listing's standing event and its matches."""
    standing: dict[str, tuple[str, set[str]]] = {}
    for step, (kind, listing_id, payload) in enumerate(events):
        if kind == "found":
            event_id = f"e{step}"
            graph.found(found_cause(listing_id, event_id, at_ms=step), payload)
            standing[listing_id] = (event_id, {m for m, _ in payload if m != listing_id})
        elif listing_id in standing:
            event_id, matches = standing[listing_id]
            graph.retracted(retracted_cause(listing_id, f"r{step}"), event_id, payload)
            matches -= set(payload)
    return standing


def components(pairs: set[frozenset[str]]) -> set[frozenset[str]]:
    index = {name: i for i, name in enumerate(IDS)}
    rows = [index[min(p)] for p in pairs]
    cols = [index[max(p)] for p in pairs]
    matrix = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(IDS), len(IDS)))
    _, labels = connected_components(matrix, directed=False)
    groups: dict[int, set[str]] = {}
    for name, label in zip(IDS, labels, strict=True):
        groups.setdefault(int(label), set()).add(name)
    return {frozenset(group) for group in groups.values() if len(group) > 1}


@settings(max_examples=300, deadline=None)
@given(EVENTS)
def test_without_the_guard_clusters_are_the_components_of_the_standing_links(events) -> None:
    store: dict[str, Any] = {}
    standing = apply(ClusterGraph(store, NO_GUARD), events)
    expected_links = {frozenset((s, m)) for s, (_, matches) in standing.items() for m in matches}
    assert links(store) == expected_links
    assert partition(store) == components(expected_links)


@settings(max_examples=300, deadline=None)
@given(EVENTS, st.integers(2, 5), st.sampled_from([0.0, 0.9, 0.97]))
def test_under_the_guard_clusters_are_the_components_of_the_kept_links(events, cap, base) -> None:
    store: dict[str, Any] = {}
    apply(ClusterGraph(store, Guard(free_size=2, base_score=base, max_size=cap)), events)
    assert partition(store) == components(links(store))
    for cluster_id, members in clusters(store).items():
        assert len(members) <= cap
        orders = [tuple(store[LISTING_PREFIX + m]["order"]) for m in members]
        assert orders == sorted(orders) and members[0] == cluster_id  # named after the earliest, earliest first
        assert all(store[LISTING_PREFIX + m]["cluster"] == cluster_id for m in members)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(IDS), st.lists(st.sampled_from(IDS), min_size=1, max_size=3), max_size=8),
       st.randoms())  # fmt: skip
def test_cluster_ids_do_not_depend_on_the_order_of_the_events(matches: dict[str, list[str]], rng) -> None:
    """One event per listing (a listing's later event replaces its earlier one, so their order matters), each
    naming another listing (as real duplicate-found events do)."""
    named_others = {listing_id: [m for m in named if m != listing_id] for listing_id, named in matches.items()}
    events = [
        (listing_id, [(m, 0.99) for m in named], at)
        for at, (listing_id, named) in enumerate(named_others.items())
        if named
    ]
    shuffled = list(events)
    rng.shuffle(shuffled)
    results = []
    for order in (events, shuffled):
        store: dict[str, Any] = {}
        graph = ClusterGraph(store, NO_GUARD)
        for listing_id, named, at in order:
            graph.found(found_cause(listing_id, f"e-{listing_id}", at_ms=at), named)
        results.append(clusters(store))
    assert results[0] == results[1]
