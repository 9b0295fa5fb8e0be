"""decider.evaluation.review: each reported pair judged, each missed known pair explained, the worst first."""

from __future__ import annotations

import csv
from pathlib import Path

from decider.evaluation.review import (
    COLUMNS,
    MISSED_BELOW_THRESHOLD,
    MISSED_NOT_CANDIDATE,
    REPORTED_DUPLICATE,
    REPORTED_WRONGLY,
    review_pairs,
    worst,
    write_review,
)

TITLES = {"a": "Sony TV 55", "b": "SONY 55in TV", "c": "Sony TV 65", "d": "Bosch dishwasher", "e": "Bosch, \"Serie 4\""}


def pair(first: str, second: str) -> frozenset[str]:
    return frozenset((first, second))


def test_every_reported_and_every_missed_known_pair_gets_its_verdict() -> None:
    reported = {pair("b", "a"): 0.97, pair("c", "a"): 0.81}
    scored = {**reported, pair("e", "d"): 0.12, pair("c", "d"): 0.01}
    truth = {pair("a", "b"), pair("d", "e"), pair("b", "e")}

    rows = review_pairs(reported, scored, truth, TITLES)

    verdicts = {(row.first_id, row.second_id): (row.verdict, row.score) for row in rows}
    assert verdicts == {
        ("a", "b"): (REPORTED_DUPLICATE, 0.97),
        ("a", "c"): (REPORTED_WRONGLY, 0.81),
        ("d", "e"): (MISSED_BELOW_THRESHOLD, 0.12),
        ("b", "e"): (MISSED_NOT_CANDIDATE, None),
    }
    assert next(row for row in rows if row.first_id == "a" and row.second_id == "b").second_title == "SONY 55in TV"


def test_the_worst_mistakes_are_the_most_confident_ones() -> None:
    reported = {pair("a", "c"): 0.6, pair("a", "d"): 0.99, pair("b", "d"): 0.7}
    scored = {**reported, pair("a", "e"): 0.4, pair("b", "e"): 0.05}
    truth = {pair("a", "e"), pair("b", "e")}
    rows = review_pairs(reported, scored, truth, TITLES)

    assert [row.score for row in worst(rows, REPORTED_WRONGLY, 2)] == [0.99, 0.7]
    assert [row.score for row in worst(rows, MISSED_BELOW_THRESHOLD)] == [0.05, 0.4]
    assert worst(rows, MISSED_NOT_CANDIDATE) == []


def test_the_csv_reads_back_with_titles_that_hold_commas_and_quotes(tmp_path: Path) -> None:
    rows = review_pairs({pair("d", "e"): 0.9}, {}, {pair("d", "e"), pair("a", "b")}, TITLES)
    write_review(tmp_path / "review" / "pairs.csv", rows)

    with (tmp_path / "review" / "pairs.csv").open(newline="", encoding="utf-8") as handle:
        read = list(csv.DictReader(handle))
    assert tuple(read[0]) == COLUMNS
    assert [(r["verdict"], r["score"], r["second_title"]) for r in read] == [
        (MISSED_NOT_CANDIDATE, "", "SONY 55in TV"),
        (REPORTED_DUPLICATE, "0.900000", 'Bosch, "Serie 4"'),
    ]
