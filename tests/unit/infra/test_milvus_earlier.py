"""The earlier-than rule inside the searches: filters, headroom, and the exact re-search of short queries."""

from __future__ import annotations

import math

import pytest

from infra.milvus.earlier import (
    HEADROOM_CAP,
    SECOND_ROUND_HITS,
    batch_filter,
    exact_filter,
    search_earlier,
    string_literal,
    wide_limit,
)
from infra.milvus.records import Neighbour


def hit(listing_id: str, first_seen: int) -> Neighbour:
    return Neighbour(listing_id=listing_id, similarity=math.nan, created_at_ms=0, first_seen_ms=first_seen)


class FakeSearch:
    """Answers every query with the same stored hits, best first, honouring only the limit."""

    def __init__(self, hits: list[Neighbour]) -> None:
        self.hits = hits
        self.calls: list[tuple[int, int, str]] = []

    def __call__(self, queries: list[str], limit: int, expression: str) -> list[list[Neighbour]]:
        self.calls.append((len(queries), limit, expression))
        if "listing_id <" in expression:  # the exact filter: what Milvus would leave for the one query
            seen = int(expression.split("<", 1)[1].split(" ", 2)[1])
            return [[n for n in self.hits if n.first_seen_ms < seen][:limit] for _ in queries]
        return [self.hits[:limit] for _ in queries]


def test_filters_are_built_from_integers_and_escaped_literals() -> None:
    assert batch_filter([(5, "a"), (9, "b")]) == "first_seen <= 9"
    assert exact_filter((7, "o'brien\\1")) == '(first_seen < 7 or (first_seen == 7 and listing_id < "o\'brien\\\\1"))'
    assert string_literal('x" or true or "') == '"x\\" or true or \\""'


def test_one_wide_call_serves_a_batch_when_headroom_suffices() -> None:
    search = FakeSearch([hit("later", 20), hit("b", 10), hit("a", 10), hit("old", 1)])

    found = search_earlier(search, ["q1", "q2"], 1, "has_image == true", [(10, "b"), (20, "z")])

    assert [[n.listing_id for n in row] for row in found] == [["a"], ["later"]]
    assert search.calls == [(2, 3, "(has_image == true) and (first_seen <= 20)")]


def test_a_query_crowded_out_by_later_listings_is_searched_again_under_its_exact_filter() -> None:
    search = FakeSearch([hit(f"later-{i}", 50) for i in range(5)] + [hit("early", 3)])

    found = search_earlier(search, ["q"], 1, "", [(40, "q")])

    assert [n.listing_id for n in found[0]] == ["early"]
    # wide call, second round (its headroom, the batch of one, is too small as well), then the exact filter
    assert [call[:2] for call in search.calls] == [(1, 2), (1, 2), (1, 1)]
    assert search.calls[2][2] == '(first_seen < 40 or (first_seen == 40 and listing_id < "q"))'


def test_queries_crowded_out_by_their_batch_mates_are_served_by_the_second_round() -> None:
    """A fresh collection's batch: all share one first-seen time, and the nearest hits are each other."""
    batch = [f"b{i}" for i in range(10)]
    search = FakeSearch([hit(listing_id, 50) for listing_id in reversed(batch)] + [hit("e1", 3), hit("e2", 2)])

    found = search_earlier(search, batch, 2, "", [(50, listing_id) for listing_id in batch])

    assert [n.listing_id for n in found[0]] == ["e1", "e2"]
    assert [n.listing_id for n in found[1]] == ["b0", "e1"]
    assert [n.listing_id for n in found[5]] == ["b4", "b3"]
    # one wide call (10 hits: 2 + the capped headroom of 8), then one call for the two short queries
    assert [call[:2] for call in search.calls] == [(10, 10), (2, 12)]
    assert all("listing_id <" not in call[2] for call in search.calls), "no query needed its exact filter"


def test_the_second_round_keeps_each_call_under_its_hit_budget() -> None:
    batch = [f"b{i:03d}" for i in range(300)]
    search = FakeSearch([hit(listing_id, 50) for listing_id in reversed(batch)])

    search_earlier(search, batch, 20, "", [(50, listing_id) for listing_id in batch])

    second = search.calls[1:]
    assert second and all(queries * limit <= SECOND_ROUND_HITS for queries, limit, _ in second)
    assert all(limit == 320 for _, limit, _ in second)


def test_the_headroom_is_the_batch_size_up_to_a_cap() -> None:
    assert [wide_limit(20, 3), wide_limit(20, 256), wide_limit(16_380, 10)] == [23, 20 + HEADROOM_CAP, 16_384]


def test_keys_must_match_queries() -> None:
    with pytest.raises(ValueError, match="1 order keys for 2 queries"):
        search_earlier(FakeSearch([]), ["a", "b"], 1, "", [(1, "a")])
