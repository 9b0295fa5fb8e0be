"""``benchmarks/bench_index.py``: index memory and duplicate recall per index type and Milvus build, one JSON."""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from benchmarks.index.cache import DEFAULT_CACHE, CachedVectors, VectorCache
from benchmarks.index.measure import IndexRefused, build, probe, serve_in_child
from benchmarks.index.plans import DEFAULT_TYPES, IndexPlan, Overrides, index_plan
from benchmarks.index.projection import meets_goal, project, raw_bytes_per_vector
from benchmarks.index.recall import choose_queries, duplicate_recall, exact_neighbours, neighbour_recall, without_self
from benchmarks.index.servers import backend

K = 10
SYNTHETIC_ID = re.compile(r"^b\d+:")
MEMORY_NOTE = (
    "measured: RSS growth of the process holding the index (server: the milvus process after a restart, "
    "Lite: a fresh child process), from connected and warmed up (a 2,000-row collection of the same index "
    "loaded and searched) to after loading and searching the vectors; "
    "per listing = 2 x per vector (a listing has a 128-d text and a 128-d image field, same index type)"
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help=f"vector cache (default {DEFAULT_CACHE})")
    parser.add_argument("--vectors", type=int, default=None, help="the first N cached vectors (default: all)")
    parser.add_argument("--index", default=",".join(DEFAULT_TYPES), help="comma-separated index types")
    parser.add_argument(
        "--backend", default="lite,server",
        help="comma-separated: lite, server, server-mmap (the server with queryNode.mmapDirPath: field data"
        " mapped from files)",
    )
    parser.add_argument("--queries", type=int, default=5_000, help="query listings with a known duplicate")
    parser.add_argument("--batch", type=int, default=64, help="queries per search call")
    parser.add_argument("--work", type=Path, default=None, help="folder for Milvus data (default: a temp folder)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (always; kept for symmetry)")
    parser.add_argument("--seed", type=int, default=0)
    for flag in ("nlist", "nprobe", "m", "ef-construction", "ef", "pq-m"):
        parser.add_argument(f"--{flag}", type=int, default=None, help="overrides the worker's profile")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = VectorCache(args.cache).load(args.vectors)
    queries = choose_queries(data.groups, args.queries, args.seed)
    began = time.perf_counter()
    exact = exact_neighbours(data.vectors, queries, K)
    exact_s = time.perf_counter() - began
    exact_recall = duplicate_recall(queries, exact, data.groups, K)
    report: dict[str, Any] = {
        "vectors": len(data), "dim": int(data.vectors.shape[1]), "cache": str(args.cache), "k": K,
        "queries": len(queries), "real_queries": int(sum(not SYNTHETIC_ID.match(data.ids[q]) for q in queries)),
        "batch": args.batch, "exact": {"recall_at_10": round(exact_recall, 4), "seconds": round(exact_s, 1),
                                       "recall_at_10_real": round(_real_recall(data, queries, exact), 4)},
        "memory": MEMORY_NOTE, "indexes": [], "refused": {}, "failed": [],
    }
    overrides = Overrides(args.nlist, args.nprobe, args.m, args.ef_construction, args.ef, args.pq_m)
    steps = [(name, kind) for name in args.backend.split(",") for kind in args.index.split(",")]
    with tempfile.TemporaryDirectory(prefix="index-bench-", dir=args.work) as work, tqdm(
        total=len(steps), unit="index", file=sys.stderr
    ) as progress:
        for name, kind in steps:
            progress.set_postfix_str(f"{name} {kind}")
            plan = index_plan(kind, data.vectors.shape[1], K + 1, overrides)
            outcome = measure_one(name, plan, data, queries, exact, exact_recall, Path(work) / f"{name}-{kind}", args)
            if "refused" in outcome:
                report["refused"].setdefault(name, {})[kind] = outcome["refused"]
            elif "failed" in outcome:
                report["failed"].append(outcome)
            else:
                report["indexes"].append(outcome)
            progress.update(1)
    report["best"] = best_trade_off(report["indexes"])
    return report


def measure_one(
    name: str, plan: IndexPlan, data: CachedVectors, queries: np.ndarray, exact: list[list[int]],
    exact_recall: float, folder: Path, args: argparse.Namespace,
) -> dict[str, Any]:
    try:
        with backend(name, folder) as milvus:
            probe(milvus.uri(), plan, data.vectors)
            times = build(milvus.uri(), plan, data.vectors)
            file_bytes = milvus.index_file_bytes()
            milvus.restart()
            served = serve_in_child(milvus.uri(), plan, data.vectors[queries], K + 1, args.batch, milvus.memory_pid())
    except IndexRefused as exc:
        return {"refused": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one failed index must not lose an hour of the others' figures
        return {"backend": name, "index_type": plan.index_type, "failed": f"{type(exc).__name__}: {exc}"[:500]}
    found = [without_self(rows, int(q), K) for rows, q in zip(served.results, queries, strict=True)]
    recall = duplicate_recall(queries, found, data.groups, K)
    projection = project(served.memory_bytes, len(data))
    ratio = recall / exact_recall if exact_recall else 0.0
    return {
        "backend": name, "index_type": plan.index_type, "build_params": plan.build_params,
        "search_params": plan.search_params, **{key: round(value, 2) for key, value in times.items()},
        "load_s": round(served.load_s, 2), "search_p50_ms": round(float(np.median(served.latencies_s)) * 1e3, 2),
        "search_p95_ms": round(float(np.percentile(served.latencies_s, 95)) * 1e3, 2),
        "memory_bytes": served.memory_bytes, "rss_before_mb": round(served.rss_before / 2**20, 1),
        "rss_opened_mb": round(served.rss_opened / 2**20, 1), "rss_loaded_mb": round(served.rss_loaded / 2**20, 1),
        "rss_searched_mb": round(served.rss_searched / 2**20, 1),
        "memory_settled": served.memory_settled,
        "anon_memory_bytes": served.anon_memory_bytes,
        "anon_bytes_per_listing": round(project(served.anon_memory_bytes, len(data)).bytes_per_listing, 2),
        **projection.as_dict(),
        "index_file_bytes_per_vector": None if file_bytes is None else round(file_bytes / len(data), 1),
        "raw_bytes_per_vector": raw_bytes_per_vector(plan.index_type, data.vectors.shape[1], plan.build_params),
        "recall_at_10": round(recall, 4), "recall_at_10_real": round(_real_recall(data, queries, found), 4),
        "recall_ratio": round(ratio, 4), "neighbour_recall_at_10": round(neighbour_recall(found, exact, K), 4),
        "meets_goal": meets_goal(projection.bytes_per_listing, ratio),
    }


def best_trade_off(indexes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The fewest bytes per listing among those at >= 95 % of exact recall whose memory was measured on a
    settled baseline; None when none qualify."""
    good = [entry for entry in indexes if entry["recall_ratio"] >= 0.95 and entry.get("memory_settled", True)]
    if not good:
        return None
    best = min(good, key=lambda entry: entry["bytes_per_listing"])
    return {key: best[key] for key in ("backend", "index_type", "bytes_per_listing", "recall_ratio", "meets_goal")}


def _real_recall(data: CachedVectors, queries: np.ndarray, found: list[list[int]]) -> float:
    real = [i for i, q in enumerate(queries) if not SYNTHETIC_ID.match(data.ids[q])]
    if not real:
        return 0.0
    return duplicate_recall(queries[real], [found[i] for i in real], data.groups, K)


def main(argv: list[str] | None = None) -> int:
    report = run(parse_args(sys.argv[1:] if argv is None else argv))
    print(json.dumps(report, indent=2))
    return 0
