"""benchmarks/index: recall arithmetic, the RAM projection, the cache's chunks and resume, the listing plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.index.cache import CacheError, VectorCache, group_numbers
from benchmarks.index.plans import Overrides, index_plan
from benchmarks.index.projection import meets_goal, project, raw_bytes_per_vector
from benchmarks.index.recall import (
    choose_queries,
    duplicate_recall,
    exact_neighbours,
    neighbour_recall,
    without_self,
)
from benchmarks.index.sources import NO_GROUP, ChunkSpec, _entries, iter_pending, plan_chunks


def test_recall_counts_true_duplicates_in_the_top_k_capped_at_k() -> None:
    groups = np.array([0, 0, 0, 1, 1, -1])
    queries = np.array([0, 3])
    # query 0 has duplicates {1, 2} and finds 1 of them; query 3 has {4} and finds it
    assert duplicate_recall(queries, [[1, 5], [4, 0]], groups, k=2) == pytest.approx((0.5 + 1.0) / 2)
    # with k=1 query 0 can show only one duplicate: finding 1 is all it could
    assert duplicate_recall(queries, [[1], [5]], groups, k=1) == pytest.approx(0.5)


def test_the_query_itself_is_never_its_own_neighbour() -> None:
    assert without_self([7, 3, 9, 4], query=7, k=2) == [3, 9]
    assert without_self([3, 7, 9], query=7, k=3) == [3, 9]


def test_exact_neighbours_are_the_highest_inner_products_best_first() -> None:
    angles = np.array([0.0, 0.1, 0.3, 2.0, 3.0])
    vectors = np.column_stack([np.cos(angles), np.sin(angles)]).astype(np.float32)
    assert exact_neighbours(vectors, np.array([0, 3]), k=2) == [[1, 2], [4, 2]]
    assert neighbour_recall([[1, 4], [4, 2]], [[1, 2], [4, 2]], k=2) == pytest.approx(0.75)


def test_queries_are_only_listings_with_a_known_duplicate() -> None:
    groups = np.array([-1, 0, 0, -1, 1, 1, 1])
    assert choose_queries(groups, 100, seed=0).tolist() == [1, 2, 4, 5, 6]
    drawn = choose_queries(groups, 3, seed=0)
    assert len(drawn) == 3 and set(drawn.tolist()) <= {1, 2, 4, 5, 6}


def test_projection_doubles_per_vector_for_a_listing_and_scales_to_200m() -> None:
    projection = project(memory_bytes=6_400, vectors=100)
    assert projection.bytes_per_vector == 64.0
    assert projection.bytes_per_listing == 128.0  # text + image field
    assert projection.catalog_ram_gb == pytest.approx(128 * 200e6 / 1e9)
    assert project(-5.0, 10).bytes_per_vector == 0.0  # RSS noise below zero is no memory
    assert meets_goal(128.0, 0.95) and not meets_goal(129.0, 0.99) and not meets_goal(64.0, 0.94)


def test_raw_bytes_per_vector_follow_each_code_size() -> None:
    assert raw_bytes_per_vector("FLAT", 128, {}) == 512
    assert raw_bytes_per_vector("IVF_SQ8", 128, {}) == 128
    assert raw_bytes_per_vector("IVF_PQ", 128, {"m": 16, "nbits": 8}) == 16


def test_cache_resumes_from_its_finished_chunks(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path)
    manifest = {"listings": 5, "seed": 1}
    cache.start(manifest)
    cache.write_chunk(0, ["a", "b"], ["g", "g"], np.ones((2, 4), dtype=np.float32))
    specs = [ChunkSpec(0, 2), ChunkSpec(1, 3)]
    assert [spec.index for spec in iter_pending(specs, VectorCache(tmp_path).done())] == [1]
    with pytest.raises(CacheError, match="3 were asked"):
        cache.load(3)  # not built that far yet
    cache.start(manifest)  # the same build again: accepted
    cache.write_chunk(1, ["c", "d", "e"], ["h", "", "g"], np.zeros((3, 4), dtype=np.float32))
    loaded = cache.load()
    assert loaded.ids == ["a", "b", "c", "d", "e"] and loaded.vectors.shape == (5, 4)
    assert loaded.groups.tolist() == [0, 0, -1, -1, 0]  # "h" has one member: no known duplicate
    assert cache.load(2).groups.tolist() == [0, 0]
    with pytest.raises(CacheError, match="another cache"):
        cache.start({"listings": 6, "seed": 1})


def test_a_cache_with_a_gap_is_refused(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path)
    cache.write_chunk(1, ["x"], [""], np.zeros((1, 2), dtype=np.float32))
    with pytest.raises(CacheError, match=r"\[0\]"):
        cache.load()


def test_group_numbers_leave_singletons_out() -> None:
    assert group_numbers(["x", "y", "x", "", "z"]).tolist() == [0, -1, 0, -1, -1]


def test_plan_puts_real_listings_first_then_synthetic_blocks() -> None:
    assert plan_chunks(1_000_000, 36_682, 50_000)[0] == ChunkSpec(0, 36_682)
    chunks = plan_chunks(1_000_000, 36_682, 50_000)
    assert sum(chunk.size for chunk in chunks) == 1_000_000 and chunks[-1].size == 13_318
    assert plan_chunks(20, 100, 6) == [ChunkSpec(0, 10), ChunkSpec(1, 6), ChunkSpec(2, 4)]


def test_entries_use_the_worker_text_and_drop_what_it_rejects() -> None:
    listings = {
        "1": {"listing_id": "1", "title": "Galaxy S21 128GB", "brand": "Samsung"},
        "2": {"listing_id": "2", "title": "Samsung Galaxy S21"},
        "3": {"listing_id": "3", "title": "   "},  # blank: the worker dead-letters it
        "4": {"listing_id": "4", "title": "Pixel 7"},
    }
    entries = _entries(listings, [("1", "2"), ("3", "4")], prefix="real:")
    assert [(e.listing_id, e.text) for e in entries] == [
        ("1", "Samsung Galaxy S21 128GB"), ("2", "Samsung Galaxy S21"), ("4", "Pixel 7"),
    ]
    assert entries[0].group == entries[1].group != NO_GROUP
    assert entries[2].group == NO_GROUP  # its only partner was rejected


def test_plans_take_the_worker_profile_and_the_overrides() -> None:
    hnsw = index_plan("HNSW", 128, limit=11)
    assert hnsw.build_params == {"M": 16, "efConstruction": 200} and hnsw.search_params["ef"] >= 11
    sq = index_plan("HNSW_SQ", 128, limit=11, overrides=Overrides(m=8, ef=128))
    assert sq.build_params["sq_type"] == "SQ8" and sq.build_params["M"] == 8 and sq.search_params == {"ef": 128}
    assert index_plan("IVF_PQ", 128, 11, Overrides(nlist=1024, pq_m=32)).build_params["m"] == 32
    with pytest.raises(ValueError, match="unknown index type"):
        index_plan("SCANN", 128, 11)


def test_the_best_trade_off_skips_memory_measured_on_an_unsettled_baseline() -> None:
    from benchmarks.index.cli import best_trade_off
    from benchmarks.index.measure import Served

    fell = Served(0, rss_opened=811, rss_loaded=700, rss_searched=644, load_s=1.0, latencies_s=[], results=[])
    grew = Served(0, rss_opened=263, rss_loaded=400, rss_searched=492, load_s=1.0, latencies_s=[], results=[])
    assert not fell.memory_settled and grew.memory_settled

    def entry(index_type: str, per_listing: float, settled: bool) -> dict[str, object]:
        return {"backend": "server", "index_type": index_type, "bytes_per_listing": per_listing,
                "recall_ratio": 0.96, "meets_goal": per_listing <= 128, "memory_settled": settled}  # fmt: skip

    best = best_trade_off([entry("IVF_SQ8", 122.8, settled=False), entry("IVF_SQ8", 481.1, settled=True)])
    assert best is not None and best["bytes_per_listing"] == 481.1
    assert best_trade_off([entry("IVF_SQ8", 122.8, settled=False)]) is None
