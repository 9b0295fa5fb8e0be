"""benchmarks/bench_index.py end to end on Milvus Lite, 5,000 clustered vectors (no encoder: a cache written here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.index.cache import VectorCache
from benchmarks.index.cli import parse_args, run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ROWS = 5_000
DIM = 128


def clustered_cache(folder: Path, seed: int = 3) -> None:
    """Groups of 2-3 near-identical vectors (duplicates) among loners, like listings around products."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((ROWS // 2, DIM)).astype(np.float32)
    owner = np.sort(rng.integers(0, len(centres), ROWS))
    vectors = centres[owner] + 0.15 * rng.standard_normal((ROWS, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cache = VectorCache(folder)
    cache.start({"listings": ROWS})
    cache.write_chunk(0, [f"id{i}" for i in range(ROWS)], [f"c{c}" for c in owner], vectors)


def test_lite_reports_memory_recall_and_what_it_refuses(tmp_path: Path) -> None:
    clustered_cache(tmp_path / "cache")
    args = parse_args(
        ["--cache", str(tmp_path / "cache"), "--backend", "lite", "--index", "FLAT,HNSW,IVF_PQ",
         "--queries", "500", "--work", str(tmp_path), "--json"]
    )
    report = run(args)
    assert report["vectors"] == ROWS and report["queries"] == 500
    assert report["exact"]["recall_at_10"] > 0.9  # the planted duplicates are each other's nearest
    assert "IVF_PQ" in report["refused"]["lite"]  # Lite 3.2 builds HNSW, HNSW_SQ, IVF_FLAT, IVF_SQ8, FLAT
    by_type = {entry["index_type"]: entry for entry in report["indexes"]}
    assert set(by_type) == {"FLAT", "HNSW"}
    assert by_type["FLAT"]["recall_ratio"] == pytest.approx(1.0, abs=0.01)  # FLAT is exact search
    assert by_type["HNSW"]["recall_ratio"] > 0.9
    for entry in by_type.values():
        assert entry["memory_bytes"] > 0  # both figures are rounded to 2 decimals: a cent apart at most
        assert entry["bytes_per_listing"] == pytest.approx(2 * entry["bytes_per_vector"], abs=0.02)
        assert entry["search_p50_ms"] > 0 and entry["build_s"] >= 0
    assert report["best"] is not None and report["best"]["recall_ratio"] >= 0.95
