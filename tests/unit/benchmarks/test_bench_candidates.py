"""benchmarks/bench_candidates.py: the recall it reports is the recall of the lists it merged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.bench_candidates import (
    candidate_recall,
    dense_neighbours,
    lexical_neighbours,
    reciprocal_rank_fusion,
    union,
)


def test_dense_neighbours_are_the_most_similar_others_best_first() -> None:
    angles = np.array([0.0, 0.1, 0.3, 2.0])
    vectors = np.column_stack([np.cos(angles), np.sin(angles)]).astype(np.float32)
    assert dense_neighbours(vectors, 2) == [[1, 2], [0, 2], [1, 0], [2, 1]]


def test_fusion_rewards_agreement_and_union_keeps_every_item_once() -> None:
    dense, lexical = [[1, 2, 3]], [[3, 4, 1]]
    assert union(dense, lexical) == [[1, 2, 3, 4]]
    assert reciprocal_rank_fusion([dense, lexical], k=2) == [[1, 3]]  # in both lists, 1 ranks higher


def test_a_pair_counts_when_either_member_lists_the_other() -> None:
    truth = {frozenset((0, 1)), frozenset((2, 3)), frozenset((0, 3))}
    assert candidate_recall([[1], [], [], [2]], truth) == round(2 / 3, 4)


def test_bm25_finds_titles_that_share_rare_words(tmp_path: Path) -> None:
    texts = ["Maling TTS luncheon meat 397 gr", "luncheon meat maling 397gr kaleng", "Sweater hoodie babyterry", "hoodie sweater pria"]
    found, _seconds = lexical_neighbours(texts, 1, tmp_path)
    assert found == [[1], [0], [3], [2]]
