from pathlib import Path

import numpy as np
import pytest

from decider.evaluation.metrics import pair_metrics, pairwise_scores, precision_recall_curve, recall_at_k
from decider.evaluation.plots import write_plots


def test_pair_metrics_count_both_classes() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    labels = np.array([1, 1, 0, 1, 0, 0])
    metrics = pair_metrics(scores, labels, threshold=0.5)
    assert (metrics.true_positives, metrics.false_positives, metrics.false_negatives) == (2, 1, 1)
    assert metrics.precision == pytest.approx(2 / 3) and metrics.recall == pytest.approx(2 / 3)
    # Non-duplicate class: tn=2, fn=1 (predicted distinct but duplicate), fp=1.
    assert metrics.macro_f1 == pytest.approx((2 / 3 + 2 * 2 / (2 * 2 + 1 + 1)) / 2)
    assert (metrics.pairs, metrics.positives) == (6, 3)


def test_pair_metrics_with_nothing_predicted_is_zero_not_an_error() -> None:
    metrics = pair_metrics(np.array([0.1, 0.2]), np.array([1, 0]), threshold=0.9)
    assert metrics.precision == metrics.recall == metrics.f1 == 0.0


def test_precision_recall_curve_ends_at_full_recall() -> None:
    precision, recall = precision_recall_curve(np.array([0.9, 0.5, 0.4]), np.array([1, 0, 1]))
    assert recall[-1] == 1.0 and precision[0] == 1.0 and precision[-1] == pytest.approx(2 / 3)


def test_plots_are_written_as_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    scores, labels = rng.uniform(size=200), rng.integers(0, 2, size=200)
    paths = write_plots(scores, labels, 0.5, tmp_path, "set-test")
    assert [p.name for p in paths] == ["set-test-precision-recall.png", "set-test-score-histogram.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_recall_at_k_counts_partners_among_the_nearest_other_rows() -> None:
    # Rows on a line of angles: 0's nearest others are 1 then 2; row 3 is a distractor near 2.
    angles = np.array([0.0, 0.1, 0.3, 0.35])
    vectors = np.column_stack([np.cos(angles), np.sin(angles)])
    partners = {0: {1, 2}, 2: {0}}
    recall = recall_at_k(vectors, partners, [1, 2, 3])
    # k=1: 0 finds 1 (of 1, 2); 2 finds 3, not 0.  k=2: 0 finds both; 2 finds 3, 1.  k=3: all.
    assert recall == {1: round(1 / 3, 4), 2: round(2 / 3, 4), 3: 1.0}


# --- found duplicate pairs against the true ones ---------------------------------------------------


def pair(left: str, right: str) -> frozenset[str]:
    return frozenset((left, right))


def test_pairwise_scores_on_a_hand_made_example() -> None:
    truth = {pair("a", "b"), pair("c", "d"), pair("e", "f"), pair("g", "h")}
    found = [pair("b", "a"), pair("c", "d"), pair("a", "c"), pair("a", "b")]  # a repeat counts once

    scores = pairwise_scores(found, truth)

    assert scores == {
        "precision": pytest.approx(2 / 3),
        "recall": pytest.approx(2 / 4),
        "f1": pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5)),
        "true_positives": 2,
        "false_positives": 1,
        "false_negatives": 2,
    }


@pytest.mark.parametrize(
    ("found", "truth", "expected"),
    [
        ([], {pair("a", "b")}, (0.0, 0.0, 0.0, 0, 0, 1)),
        ([pair("a", "b")], set(), (0.0, 0.0, 0.0, 0, 1, 0)),
        ([], set(), (0.0, 0.0, 0.0, 0, 0, 0)),
        ([pair("a", "b")], {pair("b", "a")}, (1.0, 1.0, 1.0, 1, 0, 0)),
    ],
)
def test_pairwise_scores_edge_cases(
    found: list[frozenset[str]], truth: set[frozenset[str]], expected: tuple[float, float, float, int, int, int]
) -> None:
    scores = pairwise_scores(iter(found), truth)

    keys = ("precision", "recall", "f1", "true_positives", "false_positives", "false_negatives")
    assert tuple(scores[key] for key in keys) == expected


def test_pairwise_scores_rejects_something_that_is_not_a_pair() -> None:
    with pytest.raises(ValueError, match="two distinct listing ids"):
        pairwise_scores([frozenset({"a"})], set())
