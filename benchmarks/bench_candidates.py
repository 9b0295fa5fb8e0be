"""Candidate recall of the dense channel, a lexical (BM25) channel and their fusion, on a labeled catalog.

Candidate recall is the share of known duplicate pairs that reach the decider at all: the ceiling of
the stream's recall. For every listing of the catalog this asks the dense channel (the model's 128-d
vectors, exact inner product) and Milvus' BM25 full-text search (Milvus Lite, the listing text through
its standard analyzer) for their nearest other listings, and counts a known pair as found when either
member lists the other. Merges: the union of both channels' top k, and reciprocal-rank fusion cut to k.

    .venv/bin/python benchmarks/bench_candidates.py --data ../shared/data/shopee-dev-catalog --model M

Prints one JSON object: recall per channel and k, and the candidates per listing each costs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from pymilvus import DataType, Function, FunctionType, MilvusClient

from decider.bundle import ModelBundle
from decider.datasets.labeled import load_dataset
from encoders.listing import listing_text

RRF_CONSTANT = 60  # the usual reciprocal-rank-fusion damping (Cormack et al., 2009)
QUERY_BATCH = 256
MAX_TEXT_CHARS = 2_000


def dense_neighbours(vectors: np.ndarray, k: int) -> list[list[int]]:
    """Each row's k most similar other rows, best first (exact search: the ANN index's ceiling)."""
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -np.inf)
    top = np.argpartition(-similarities, kth=min(k, len(vectors) - 1) - 1, axis=1)[:, :k]
    order = np.take_along_axis(similarities, top, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(top, order, axis=1).tolist()


def lexical_neighbours(texts: Sequence[str], k: int, work_dir: Path) -> tuple[list[list[int]], float]:
    """Each text's k best BM25 matches among the others, from Milvus Lite's full-text search."""
    client = MilvusClient(str(work_dir / "bm25.db"))
    try:
        _create_bm25_collection(client)
        rows = [{"row": i, "text": text[:MAX_TEXT_CHARS], "unused": [0.0, 0.0]} for i, text in enumerate(texts)]
        client.insert("listings", rows)
        started = time.perf_counter()
        found: list[list[int]] = []
        for start in range(0, len(texts), QUERY_BATCH):
            batch = [text[:MAX_TEXT_CHARS] for text in texts[start : start + QUERY_BATCH]]
            hits = client.search("listings", data=batch, anns_field="sparse", limit=k + 1, output_fields=["row"])
            for offset, row_hits in enumerate(hits):
                own = start + offset
                found.append([hit["entity"]["row"] for hit in row_hits if hit["entity"]["row"] != own][:k])
        return found, time.perf_counter() - started
    finally:
        client.close()


def _create_bm25_collection(client: MilvusClient) -> None:
    schema = client.create_schema(auto_id=False)
    schema.add_field("row", DataType.INT64, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=4 * MAX_TEXT_CHARS, enable_analyzer=True)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus Lite wants a dense field too
    schema.add_function(
        Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"], output_field_names=["sparse"])
    )
    index = client.prepare_index_params()
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    index.add_index("unused", index_type="FLAT", metric_type="IP")
    client.create_collection("listings", schema=schema, index_params=index)


def union(first: Sequence[Sequence[int]], second: Sequence[Sequence[int]]) -> list[list[int]]:
    return [list(dict.fromkeys([*a, *b])) for a, b in zip(first, second, strict=True)]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Sequence[int]]], k: int) -> list[list[int]]:
    """Per row, the k items with the highest sum of 1 / (RRF_CONSTANT + rank) over the rankings."""
    fused = []
    for per_channel in zip(*rankings, strict=True):
        scores: dict[int, float] = {}
        for ranking in per_channel:
            for rank, item in enumerate(ranking):
                scores[item] = scores.get(item, 0.0) + 1.0 / (RRF_CONSTANT + rank + 1)
        fused.append(sorted(scores, key=lambda item: -scores[item])[:k])
    return fused


def candidate_recall(neighbours: Sequence[Sequence[int]], truth: set[frozenset[int]]) -> float:
    """Share of known pairs in which either member lists the other."""
    found = {frozenset((row, other)) for row, others in enumerate(neighbours) for other in others}
    return round(len(found & truth) / len(truth), 4) if truth else 0.0


def mean_candidates(neighbours: Sequence[Sequence[int]]) -> float:
    return round(float(np.mean([len(row) for row in neighbours])), 1)


def measure(
    texts: Sequence[str], vectors: np.ndarray, truth: set[frozenset[int]], ks: Sequence[int], work_dir: Path
) -> dict[str, dict[str, float]]:
    largest = max(ks)
    dense = dense_neighbours(vectors, largest)
    lexical, lexical_seconds = lexical_neighbours(texts, largest, work_dir)
    figures: dict[str, dict[str, float]] = {"lexical_search_ms_per_listing": {"bm25": round(1000 * lexical_seconds / len(texts), 2)}}
    for k in ks:
        top_dense, top_lexical = [row[:k] for row in dense], [row[:k] for row in lexical]
        merged = union(top_dense, top_lexical)
        figures[f"k={k}"] = {
            "dense": candidate_recall(top_dense, truth),
            "bm25": candidate_recall(top_lexical, truth),
            "union": candidate_recall(merged, truth),
            "union_candidates_per_listing": mean_candidates(merged),
            "rrf_cut_to_k": candidate_recall(reciprocal_rank_fusion([dense, lexical], k), truth),
        }
    figures[f"union_within_{largest}"] = {
        f"dense{d}+bm25{largest - d}": candidate_recall(union([r[:d] for r in dense], [r[: largest - d] for r in lexical]), truth)
        for d in range(0, largest + 1, max(largest // 5, 1))
    }
    return figures


def rows_of(truth: set[frozenset[str]], index: Mapping[str, int]) -> set[frozenset[int]]:
    return {frozenset(index[listing_id] for listing_id in pair) for pair in truth}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a labeled catalog (truth.csv or pairs/all.csv)")
    parser.add_argument("--model", type=Path, required=True, help="a model folder (dedup train or dedup demo)")
    parser.add_argument("--k", type=int, nargs="+", default=[10, 20, 50], help="candidates per channel")
    args = parser.parse_args(argv)
    dataset = load_dataset(args.data)
    ids = list(dataset.listings)
    texts = [listing_text(dataset.listings[listing_id]) for listing_id in ids]
    model = ModelBundle.load(args.model, device="cpu")
    vectors = model.embed(texts)
    truth = rows_of(dataset.duplicate_pairs(), {listing_id: row for row, listing_id in enumerate(ids)})
    with tempfile.TemporaryDirectory() as work_dir:
        figures = measure(texts, vectors, truth, sorted(set(args.k)), Path(work_dir))
    print(json.dumps({"data": dataset.name, "listings": len(ids), "known_pairs": len(truth), "model": model.version, **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
