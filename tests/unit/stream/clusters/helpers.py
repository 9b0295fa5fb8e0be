"""Building duplicate events for the cluster logic, and reading its state back."""

from __future__ import annotations

from typing import Any

from stream.clusters.events import Cause
from stream.clusters.graph import ClusterGraph
from stream.clusters.state import CLUSTER_PREFIX, LISTING_PREFIX
from stream.events import SourcePosition

SOURCE = SourcePosition(topic="listings.duplicates", partition=0, offset=0)


def found_cause(listing_id: str, event_id: str | None = None, at_ms: int = 1_000) -> Cause:
    return Cause("duplicate-found", event_id or f"e-{listing_id}", listing_id, f"t{at_ms}", at_ms, SOURCE)


def retracted_cause(listing_id: str, event_id: str = "r", at_ms: int = 9_000) -> Cause:
    return Cause("duplicate-retracted", event_id, listing_id, f"t{at_ms}", at_ms, SOURCE)


def clusters(store: dict[str, Any]) -> dict[str, list[str]]:
    prefix = len(CLUSTER_PREFIX)
    return {key[prefix:]: value["members"] for key, value in store.items() if key.startswith(CLUSTER_PREFIX)}


def partition(store: dict[str, Any]) -> set[frozenset[str]]:
    return {frozenset(members) for members in clusters(store).values()}


def links(store: dict[str, Any]) -> set[frozenset[str]]:
    """The kept links, checked to be recorded on both ends."""
    found = set()
    for key, value in store.items():
        if key.startswith(LISTING_PREFIX):
            listing_id = key[len(LISTING_PREFIX) :]
            for other in value["out"]:
                assert listing_id in store[LISTING_PREFIX + other]["in"], (listing_id, other)
                found.add(frozenset((listing_id, other)))
    return found


def found(graph: ClusterGraph, listing_id: str, *matches: str, score: float = 0.99, at_ms: int = 1_000, event_id=None):
    return graph.found(found_cause(listing_id, event_id, at_ms), [(m, score) for m in matches])
