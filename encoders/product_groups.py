"""Product groups: listings that are the same product, from labeled links or cluster ids.

Fine-tuning (never use a listing's own product as its negative), training (products implied by
positive pairs), the synthetic catalog (near-miss families) and scoring (pairs within clusters)
all need the same two operations, so they live here once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from itertools import combinations
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def group_roots(links: Iterable[tuple[Node, Node]], nodes: Iterable[Node] = ()) -> dict[Node, Node]:
    """Union-find: each node (``nodes`` first, then those the links name) -> its group's representative.

    Representatives are deterministic for a given link order (a link (a, b) hangs a's group under
    b's): callers shuffle and split by them with seeded generators, so they must not change.
    ``scipy.sparse.csgraph.connected_components`` finds the same groups but numbers them its own way.
    """
    parent: dict[Node, Node] = {node: node for node in nodes}

    def root(node: Node) -> Node:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]  # path halving
            node = parent[node]
        return node

    for first, second in links:
        parent[root(first)] = root(second)
    return {node: root(node) for node in parent}


def pairs_within_groups(groups: Mapping[str, str]) -> set[frozenset[str]]:
    """Every unordered pair of members that share a group id (``listing_id -> group id``)."""
    members: dict[str, list[str]] = defaultdict(list)
    for member, group in groups.items():
        members[group].append(member)
    return {frozenset(pair) for group in members.values() for pair in combinations(group, 2)}
