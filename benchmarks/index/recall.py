"""Recall@k of true duplicates, and exact neighbours to compare an index with (pure numpy)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

EXACT_QUERY_BLOCK = 64  # 64 queries x 1M vectors of float32 scores = 256 MB at a time


def choose_queries(groups: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Rows with a known duplicate among the vectors, ``count`` of them drawn at random (all when fewer)."""
    candidates = np.flatnonzero(groups >= 0)
    if len(candidates) <= count:
        return candidates
    return np.sort(np.random.default_rng(seed).choice(candidates, size=count, replace=False))


def without_self(rows: Sequence[int], query: int, k: int) -> list[int]:
    """A result list (searched with k + 1: the query is in the index) without the query, cut to k."""
    return [row for row in rows if row != query][:k]


def duplicate_recall(queries: np.ndarray, results: Sequence[Sequence[int]], groups: np.ndarray, k: int) -> float:
    """Mean over queries of (true duplicates in the top k) / min(true duplicates, k).

    The denominator caps at k: a listing with 30 duplicates cannot show more than k of them.
    """
    members: dict[int, set[int]] = {}
    for row in np.flatnonzero(groups >= 0):
        members.setdefault(int(groups[row]), set()).add(int(row))
    shares = []
    for query, found in zip(queries, results, strict=True):
        duplicates = members[int(groups[query])] - {int(query)}
        hits = sum(1 for row in found[:k] if row in duplicates)
        shares.append(hits / min(len(duplicates), k))
    return float(np.mean(shares)) if shares else 0.0


def neighbour_recall(results: Sequence[Sequence[int]], exact: Sequence[Sequence[int]], k: int) -> float:
    """The usual ANN recall: the share of the exact top k that the index returned."""
    pairs = zip(results, exact, strict=True)
    shares = [len(set(found[:k]) & set(truth[:k])) / max(1, len(truth[:k])) for found, truth in pairs]
    return float(np.mean(shares)) if shares else 0.0


def exact_neighbours(vectors: np.ndarray, queries: np.ndarray, k: int) -> list[list[int]]:
    """Top k by inner product (= cosine on normalised vectors), the query itself left out, best first."""
    out: list[list[int]] = []
    for start in range(0, len(queries), EXACT_QUERY_BLOCK):
        block = queries[start : start + EXACT_QUERY_BLOCK]
        scores = vectors[block] @ vectors.T
        scores[np.arange(len(block)), block] = -np.inf  # never its own neighbour
        kept = min(k, vectors.shape[0] - 1)
        top = np.argpartition(-scores, kept, axis=1)[:, : kept + 1]
        for row, candidates in enumerate(top):
            ordered = candidates[np.argsort(-scores[row, candidates], kind="stable")]
            out.append([int(c) for c in ordered if c != block[row]][:k])
    return out
