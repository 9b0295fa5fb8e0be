"""The "stored before me" rule, applied inside the searches.

A listing only matches listings stored before it: ``(first_seen, listing_id)`` smaller than its own.
Filtering after a plain top-k search loses earlier matches when later listings crowd them out of the
k (a replay, where the whole catalog is already stored). Milvus takes one filter per search call and
the queries of a batch have different keys, so a batch is searched in one call under the loosest
key's filter, asking ``limit`` plus a little headroom (HEADROOM_CAP), and each query keeps its own earlier
ones. A query left short while its hits were full (more later listings passed the loose filter than the
headroom covers: in a fresh collection, its batch-mates) goes to a second round: the short queries
together, in wide calls whose headroom is the whole batch, which is enough whenever the later listings
that pass are batch-mates (a live batch: they share its first-seen time). A query still short after that
(in a replay, the later members of its cluster) is searched again alone, under its exact filter.

Each hit costs: it carries the listing's attributes (up to 8 KB), and Milvus Lite turns every hit's whole
row into a Python dict (py-spy: 42 % of a search-only loop's time), so the first round asks few extra hits and the
second round keeps each call under SECOND_ROUND_HITS.

Measured on Milvus Lite 3.2.2 (20k rows, 100 queries, shared CPU): one wide call 1.5 s; one call per
distinct first-seen value (10 values) 9.7 s. Lite rejects filter templates (``filter_params``:
"unexpected character '{'"), so expressions are built here from integers we produced and escaped
string literals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from infra.milvus.records import Neighbour
from infra.milvus.schema import string_literal

FIRST_SEEN = "first_seen"
MAX_TOPK = 16_384  # Milvus' limit on hits per query
# Later listings a query can lose to before it needs the second round; a handful is typical in a grown
# collection (near duplicates stored later). Only a fresh collection's first batches need more.
HEADROOM_CAP = 8
SECOND_ROUND_HITS = 4_096  # per call: 4,096 hits of at most 8 KB of attributes stay under gRPC's 64 MB

OrderKey = tuple[int, str]  # (first_seen_ms, listing_id)
# (queries, limit, filter expression) -> hits per query, best first: one store search call
SearchCall = Callable[[Any, int, str], list[list[Neighbour]]]


def is_earlier(neighbour: Neighbour, key: OrderKey) -> bool:
    return (neighbour.first_seen_ms, neighbour.listing_id) < key


def batch_filter(keys: Sequence[OrderKey]) -> str:
    """Passes every listing earlier than at least one key (and a few later ones: see module doc)."""
    return f"{FIRST_SEEN} <= {int(max(seen for seen, _ in keys))}"


def exact_filter(key: OrderKey) -> str:
    """Passes exactly the listings stored before ``key``."""
    seen, listing_id = int(key[0]), key[1]
    return f"({FIRST_SEEN} < {seen} or ({FIRST_SEEN} == {seen} and listing_id < {string_literal(listing_id)}))"


def both(first: str, second: str) -> str:
    return f"({first}) and ({second})" if first and second else first or second


def wide_limit(limit: int, batch: int) -> int:
    return min(limit + min(batch, HEADROOM_CAP), MAX_TOPK)


def keep_earlier(
    wide: Sequence[Sequence[Neighbour]], keys: Sequence[OrderKey], limit: int, asked: int
) -> tuple[list[list[Neighbour]], list[int]]:
    """Each query's first ``limit`` earlier hits, and the queries to search again under their exact filter:
    short of ``limit`` although the wide search returned all ``asked`` hits (so more earlier ones may exist)."""
    kept = [[n for n in hits if is_earlier(n, key)][:limit] for hits, key in zip(wide, keys, strict=True)]
    again = [i for i, hits in enumerate(wide) if len(kept[i]) < limit and len(hits) >= asked]
    return kept, again


def search_earlier(
    search: SearchCall, queries: Any, limit: int, only: str, keys: Sequence[OrderKey]
) -> list[list[Neighbour]]:
    """Each query's ``limit`` best hits among listings stored before its key (``only`` applied too)."""
    if len(keys) != len(queries):
        raise ValueError(f"{len(keys)} order keys for {len(queries)} queries")
    if not keys:
        return []
    asked = wide_limit(limit, len(keys))
    loose = both(only, batch_filter(keys))
    kept, again = keep_earlier(search(queries, asked, loose), keys, limit, asked)
    if again:
        again = second_round(search, queries, limit, loose, keys, kept, again)
    for row in again:  # rare: see the module doc
        kept[row] = search(queries[row : row + 1], limit, both(only, exact_filter(keys[row])))[0]
    return kept


def second_round(
    search: SearchCall, queries: Any, limit: int, loose: str, keys: Sequence[OrderKey],
    kept: list[list[Neighbour]], rows: Sequence[int],
) -> list[int]:
    """Searches the short ``rows`` again under the loose filter with the whole batch as headroom, updating
    ``kept``; returns the rows still short with full hits (more later listings passed than the batch holds)."""
    asked = min(limit + len(keys), MAX_TOPK)
    per_call = max(1, SECOND_ROUND_HITS // asked)
    still: list[int] = []
    for start in range(0, len(rows), per_call):
        chunk = list(rows[start : start + per_call])
        found, short = keep_earlier(search(_rows(queries, chunk), asked, loose), [keys[r] for r in chunk], limit, asked)
        for row, hits in zip(chunk, found, strict=True):
            kept[row] = hits
        still += [chunk[i] for i in short]
    return still


def _rows(queries: Any, rows: list[int]) -> Any:
    """The queries at ``rows``: a matrix's rows (dense) or a list's items (texts)."""
    return queries[rows] if hasattr(queries, "shape") else [queries[row] for row in rows]
