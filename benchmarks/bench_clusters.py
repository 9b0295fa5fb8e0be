"""Throughput and memory of the duplicate-cluster logic (what `dedup clusters` keeps in its table).

    python benchmarks/bench_clusters.py [--listings 200000] [--duplicate-share 0.3] [--weak-share 0.02] [--seed 0]

Generates a stream of duplicate-found events in arrival order: products with 2 or more listings (group
sizes geometric, capped at 40, so most groups are pairs and a few are large), each later listing naming up
to 3 earlier listings of its product (scores 0.92-1.0), plus a share of weak cross-product links (score
0.70-0.85) that the giant-cluster guard has to refuse once clusters grow. It applies them to
``stream.clusters.graph.ClusterGraph`` over a plain dict, which is what faust's memory table holds, and
reports:

* ``events_per_s``: the merge logic alone (no broker, no changelog), median of ``--repeats`` passes;
* ``table_bytes_per_linked_listing``: Python heap retained by the table after the pass (tracemalloc, a
  separate pass), divided by the listings it keeps (those with at least one link): what sizes the pod;
* ``changelog_bytes_per_linked_listing``: the table's values as JSON (what a compacted changelog holds
  and a restart reads back);
* the kept listings, clusters, the largest cluster, and links the guard sent to review.

Prints one JSON object. The app on a broker adds a changelog write per changed key and one cluster-updated
event per change; the README gives both figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from stream.clusters.events import Cause
from stream.clusters.graph import ClusterGraph
from stream.clusters.guard import Guard
from stream.clusters.state import CLUSTER_PREFIX, LISTING_PREFIX
from stream.events import SourcePosition

MAX_GROUP = 40
MATCHES_PER_EVENT = 3
SOURCE = SourcePosition(topic="listings.duplicates", partition=0, offset=0)


@dataclass(frozen=True)
class FoundEvent:
    listing_id: str
    at_ms: int
    matches: tuple[tuple[str, float], ...]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Throughput and memory of the duplicate-cluster logic.")
    parser.add_argument("--listings", type=int, default=200_000, help="listings in the stream (all products)")
    parser.add_argument("--duplicate-share", type=float, default=0.3, help="share of listings with a duplicate")
    parser.add_argument("--weak-share", type=float, default=0.02, help="share of events with a weak link")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes (the median is reported)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.listings < 2:
        parser.error("--listings must be at least 2")
    if not 0 < args.duplicate_share <= 1 or not 0 <= args.weak_share <= 1:
        parser.error("--duplicate-share must be in (0, 1] and --weak-share in [0, 1]")
    if args.repeats < 1:
        parser.error("--repeats must be positive")
    return args


def duplicate_events(listings: int, duplicate_share: float, weak_share: float, seed: int) -> list[FoundEvent]:
    """Duplicate-found events in arrival order; listing ids are ``p<product>-<n>``, so truth is in the id."""
    rng = np.random.default_rng(seed)
    groups = _group_sizes(int(listings * duplicate_share), rng)
    arrivals = [(float(rng.uniform(0, 86_400_000)), product, n) for product, size in enumerate(groups)
                for n in range(size)]
    arrivals.sort()
    seen: dict[int, list[str]] = {}
    events: list[FoundEvent] = []
    for at_ms, product, n in arrivals:
        earlier = seen.setdefault(product, [])
        listing_id = f"p{product}-{n}"
        if earlier:
            named = rng.permutation(len(earlier))[:MATCHES_PER_EVENT]
            matches = [(earlier[i], round(float(rng.uniform(0.92, 1.0)), 4)) for i in named]
            if rng.random() < weak_share and len(seen) > 1:
                other = int(rng.integers(len(groups)))
                if other != product and seen.get(other):
                    matches.append((seen[other][0], round(float(rng.uniform(0.70, 0.85)), 4)))
            events.append(FoundEvent(listing_id, int(at_ms), tuple(matches)))
        earlier.append(listing_id)
    return events


def _group_sizes(listings_in_groups: int, rng: np.random.Generator) -> list[int]:
    sizes: list[int] = []
    left = listings_in_groups
    while left >= 2:
        size = min(MAX_GROUP, left, 1 + int(rng.geometric(0.6)))
        sizes.append(size)
        left -= size
    return sizes


def apply_events(events: list[FoundEvent]) -> tuple[dict[str, Any], int]:
    """The table after every event, and the links the guard routed to review."""
    store: dict[str, Any] = {}
    graph = ClusterGraph(store, Guard())
    review = 0
    for event in events:
        cause = Cause("duplicate-found", f"e-{event.listing_id}", event.listing_id, str(event.at_ms), event.at_ms,
                      SOURCE)
        review += sum(update.action == "review" for update in graph.found(cause, event.matches))
    return store, review


def timed_pass(events: list[FoundEvent]) -> float:
    gc.collect()
    started = time.perf_counter()
    apply_events(events)
    return time.perf_counter() - started


def retained_bytes(events: list[FoundEvent]) -> tuple[dict[str, Any], int, int]:
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store, review = apply_events(events)
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return store, review, retained


def table_shape(store: dict[str, Any]) -> dict[str, int]:
    sizes = [len(value["members"]) for key, value in store.items() if key.startswith(CLUSTER_PREFIX)]
    return {
        "linked_listings": sum(key.startswith(LISTING_PREFIX) for key in store),
        "clusters": len(sizes),
        "largest_cluster": max(sizes, default=0),
        "listings_in_clusters": sum(sizes),
    }


def changelog_bytes(store: dict[str, Any]) -> int:
    return sum(len(key) + len(orjson.dumps(value)) for key, value in store.items())


def run(args: argparse.Namespace) -> dict[str, Any]:
    events = duplicate_events(args.listings, args.duplicate_share, args.weak_share, args.seed)
    seconds = [timed_pass(events) for _ in range(args.repeats)]
    store, review, retained = retained_bytes(events)
    shape = table_shape(store)
    linked = max(1, shape["linked_listings"])
    return {
        "listings": args.listings,
        "events": len(events),
        "duplicate_share": args.duplicate_share,
        "weak_share": args.weak_share,
        "seed": args.seed,
        "events_per_s": round(len(events) / statistics.median(seconds), 1),
        "pass_seconds": [round(s, 3) for s in seconds],
        "products_with_duplicates": len({event.listing_id.split("-")[0] for event in events}),
        **shape,
        "review_links": review,
        "table_bytes": retained,
        "table_bytes_per_linked_listing": round(retained / linked, 1),
        "changelog_bytes_per_linked_listing": round(changelog_bytes(store) / linked, 1),
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    print(json.dumps(run(parse_args(argv)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
