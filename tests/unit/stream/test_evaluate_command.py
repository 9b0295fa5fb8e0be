"""``dedup eval --stream``'s report: the pair-eval figures for a stream, where every unordered pair is a decision."""

from __future__ import annotations

import pytest

from stream.commands.evaluate import stream_report


def test_stream_report_counts_every_unordered_pair_as_a_decision() -> None:
    figures = {
        "listings": 5, "true_positives": 2, "false_positives": 1, "false_negatives": 1,
        "precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "threshold": 0.4, "pairs_found": 3,
        "true_pairs": 3, "candidate_recall": 1.0, "data": "x", "model_version": "m", "worker_events_per_s": 1.0,
    }
    report = stream_report(figures)
    # 10 pairs in all: tn = 10 - 2 - 1 - 1 = 6; distinct-class F1 = 12 / 14.
    assert report["macro_f1"] == pytest.approx(round((2 / 3 + 12 / 14) / 2, 4))
    assert report == {
        "precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "macro_f1": round((2 / 3 + 12 / 14) / 2, 4),
        "threshold": 0.4, "pairs": 3, "positives": 3, "candidate_recall": 1.0, "listings": 5,
        "data": "x", "model_version": "m", "worker_events_per_s": 1.0,
    }
