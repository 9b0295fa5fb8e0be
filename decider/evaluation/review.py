"""What a streamed catalog got wrong, pair by pair, for a person to look at.

Every reported pair gets a verdict against the known duplicates, and every known pair that was not
reported gets the reason: it never became a candidate (the candidate stage missed it) or it was
scored below the threshold (the decider did). ``dedup eval --stream --pairs-out FILE.csv`` writes them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPORTED_DUPLICATE = "reported, known duplicate"
REPORTED_WRONGLY = "reported, not a known duplicate"
MISSED_NOT_CANDIDATE = "missed, not a candidate"
MISSED_BELOW_THRESHOLD = "missed, scored below threshold"
ERROR_VERDICTS = (REPORTED_WRONGLY, MISSED_BELOW_THRESHOLD, MISSED_NOT_CANDIDATE)
COLUMNS = ("verdict", "score", "first_id", "second_id", "first_title", "second_title")

Pair = frozenset[str]


@dataclass(frozen=True)
class ReviewedPair:
    verdict: str
    score: float | None  # the decider's; None for a pair it never saw
    first_id: str
    second_id: str
    first_title: str
    second_title: str


def review_pairs(
    reported: Mapping[Pair, float],
    scored: Mapping[Pair, float],
    truth: Iterable[Pair],
    titles: Mapping[str, str],
) -> list[ReviewedPair]:
    """Reported pairs (with their scores) and the known pairs that were not reported, each with its verdict.

    ``scored`` holds every candidate pair the decider scored, reported or not.
    """
    known = set(truth)
    rows = [_row(pair, REPORTED_DUPLICATE if pair in known else REPORTED_WRONGLY, score, titles) for pair, score in reported.items()]
    for pair in known - reported.keys():
        score = scored.get(pair)
        rows.append(_row(pair, MISSED_NOT_CANDIDATE if score is None else MISSED_BELOW_THRESHOLD, score, titles))
    return sorted(rows, key=lambda row: (row.verdict, -(row.score or 0.0), row.first_id, row.second_id))


def worst(rows: Sequence[ReviewedPair], verdict: str, count: int = 10) -> list[ReviewedPair]:
    """The ``count`` most confident mistakes of one kind: wrong reports scored highest, misses scored lowest."""
    chosen = [row for row in rows if row.verdict == verdict]
    if verdict == REPORTED_WRONGLY:
        return sorted(chosen, key=lambda row: -(row.score or 0.0))[:count]
    return sorted(chosen, key=lambda row: (row.score or 0.0, row.first_id))[:count]


def write_review(path: Path, rows: Sequence[ReviewedPair]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            score = "" if row.score is None else f"{row.score:.6f}"
            writer.writerow((row.verdict, score, row.first_id, row.second_id, row.first_title, row.second_title))


def _row(pair: Pair, verdict: str, score: float | None, titles: Mapping[str, str]) -> ReviewedPair:
    first, second = sorted(pair)
    return ReviewedPair(verdict, score, first, second, titles.get(first, ""), titles.get(second, ""))
