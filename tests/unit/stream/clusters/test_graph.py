"""The merge logic on hand-picked cases: ids, merges, splits, retractions, the guard, re-sends."""

from __future__ import annotations

from typing import Any

from stream.clusters.graph import ClusterGraph
from stream.clusters.guard import Guard
from stream.clusters.state import CLUSTER_PREFIX

from .helpers import clusters, found, found_cause, links, retracted_cause


def test_a_pair_creates_a_cluster_named_after_the_earlier_listing() -> None:
    store: dict[str, Any] = {}
    events = found(ClusterGraph(store), "b", "a")
    assert clusters(store) == {"a": ["a", "b"]}
    assert [(e.cluster_id, e.action, e.members, e.size) for e in events] == [("a", "created", ["a", "b"], 2)]


def test_a_merge_keeps_the_earliest_clusters_id_and_records_the_merge() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store)
    found(graph, "b", "a", at_ms=1_000)
    found(graph, "y", "x", at_ms=2_000)
    events = found(graph, "z", "b", "y", at_ms=3_000)
    assert clusters(store) == {"a": ["a", "b", "x", "y", "z"]}
    by_id = {e.cluster_id: e for e in events}
    assert (by_id["a"].action, by_id["a"].merged_from) == ("merged", ["x"])
    assert (by_id["x"].action, by_id["x"].merged_into, by_id["x"].members) == ("absorbed", "a", [])
    assert store[CLUSTER_PREFIX + "a"]["merges"] == [{"clusters": ["a", "x"], "cause": "e-z", "at": "t3000"}]


def test_a_retraction_of_the_bridge_splits_the_cluster() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store)
    found(graph, "b", "a", at_ms=1_000)
    found(graph, "d", "c", at_ms=2_000)
    found(graph, "e", "b", "d", at_ms=3_000)
    assert clusters(store) == {"a": ["a", "b", "c", "d", "e"]}
    events = graph.retracted(retracted_cause("e"), "e-e", ["d"])
    assert clusters(store) == {"a": ["a", "b", "e"], "c": ["c", "d"]}
    by_id = {e.cluster_id: e for e in events}
    assert by_id["a"].action == "split"
    assert (by_id["c"].action, by_id["c"].split_from) == ("created", "a")


def test_a_retraction_that_leaves_another_path_changes_nothing() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store)
    found(graph, "b", "a")
    found(graph, "c", "a", "b", at_ms=2_000)
    assert graph.retracted(retracted_cause("c"), "e-c", ["a"]) == []
    assert clusters(store) == {"a": ["a", "b", "c"]}
    assert links(store) == {frozenset("ab"), frozenset("bc")}


def test_retracting_every_link_dissolves_the_cluster_and_forgets_its_listings() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store)
    found(graph, "b", "a")
    events = graph.retracted(retracted_cause("b"), "e-b", ["a"])
    assert [(e.cluster_id, e.action) for e in events] == [("a", "dissolved")]
    assert store == {}


def test_a_retraction_of_an_older_event_is_ignored() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store)
    found(graph, "b", "a", event_id="old")
    found(graph, "b", "a", event_id="new")
    assert graph.retracted(retracted_cause("b"), "old", ["a"]) == []
    assert clusters(store) == {"a": ["a", "b"]}


def test_a_newer_event_replaces_the_listings_earlier_links() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store)
    found(graph, "c", "a", event_id="first")
    events = found(graph, "c", "b", event_id="second", at_ms=2_000)
    assert clusters(store) == {"b": ["b", "c"]}  # b, a match of c, was stored before c
    assert {(e.cluster_id, e.action) for e in events} == {("a", "dissolved"), ("b", "created")}


def test_reapplying_an_event_sends_its_events_again_with_the_same_ids() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store)
    first = found(graph, "b", "a")
    snapshot = dict(store)
    again = found(graph, "b", "a")
    assert store == snapshot
    assert [e.event_id for e in again] == [e.event_id for e in first]


def test_the_guard_routes_a_weak_link_into_a_large_cluster_to_review() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store, Guard(free_size=3, base_score=0.9, max_size=10))
    found(graph, "b", "a", score=0.6)
    found(graph, "c", "a", score=0.6, at_ms=2_000)
    events = found(graph, "d", "a", score=0.9, at_ms=3_000)  # a cluster of 4 needs 1 - 0.1 * 3/4 = 0.925
    assert clusters(store) == {"a": ["a", "b", "c"]}
    assert [(e.cluster_id, e.action) for e in events] == [("a", "review")]
    assert (events[0].review[0].listing_id, events[0].review[0].match_id) == ("d", "a")
    assert "needs a score of 0.9250" in events[0].review[0].reason
    found(graph, "e", "a", score=0.93, at_ms=4_000)
    assert clusters(store) == {"a": ["a", "b", "c", "e"]}


def test_the_cap_holds_even_perfect_links() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store, Guard(free_size=2, base_score=0.0, max_size=3))
    for i, name in enumerate("bcd"):
        found(graph, name, "a", score=1.0, at_ms=1_000 + i)
    assert clusters(store) == {"a": ["a", "b", "c"]}
    assert store["l/d"]["held"] == {"a": 1.0}


def test_a_listing_named_earlier_by_a_late_event_names_the_merged_cluster() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store)
    found(graph, "b", "a", at_ms=2_000)
    events = graph.found(found_cause("a", at_ms=500), [("q", 0.99)])  # detected before: q was stored before a
    assert clusters(store) == {"q": ["q", "a", "b"]}
    assert {(e.cluster_id, e.action, e.merged_into) for e in events} == {("a", "absorbed", "q"), ("q", "merged", None)}


def test_a_late_event_lowers_the_keys_of_the_matches_below_it() -> None:
    store: dict[str, Any] = {}
    graph = ClusterGraph(store)
    found(graph, "b", "a", at_ms=2_000)
    graph.found(found_cause("x", at_ms=500), [("b", 0.99)])  # b, and so a (b's match), were stored before 500
    assert clusters(store) == {"a": ["a", "b", "x"]}
    assert store["l/a"]["order"] == [500, 0, "a"]
