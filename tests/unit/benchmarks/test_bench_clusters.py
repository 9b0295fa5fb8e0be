"""benchmarks/bench_clusters.py: its stream is what it says, and its figures describe the table it built."""

from __future__ import annotations

import json

import pytest

from benchmarks.bench_clusters import duplicate_events, main, parse_args, run


def product(listing_id: str) -> str:
    return listing_id.split("-")[0]


def test_strong_matches_name_earlier_listings_of_the_same_product() -> None:
    events = duplicate_events(3_000, 0.5, 0.2, seed=1)
    subjects = [event.listing_id for event in events]
    assert len(set(subjects)) == len(subjects)  # one event per listing: its own arrival
    assert [event.at_ms for event in events] == sorted(event.at_ms for event in events)
    earlier_subjects: set[str] = set()
    weak = 0
    for event in events:
        for match_id, score in event.matches:
            assert match_id != event.listing_id
            if score >= 0.92:
                assert product(match_id) == product(event.listing_id)
            else:
                weak += 1
                assert product(match_id) != product(event.listing_id)
            # A match is a listing already stored: its own event, if it has one, came before.
            assert match_id not in subjects or match_id in earlier_subjects
        earlier_subjects.add(event.listing_id)
    assert weak > 0
    assert duplicate_events(3_000, 0.5, 0.2, seed=1) == events


def test_without_weak_links_every_product_is_one_cluster() -> None:
    report = run(parse_args(["--listings", "2000", "--weak-share", "0", "--repeats", "1"]))
    assert report["clusters"] == report["products_with_duplicates"]
    assert report["listings_in_clusters"] == report["linked_listings"] == 600  # 2,000 x 0.3 in groups
    assert report["table_bytes_per_linked_listing"] > report["changelog_bytes_per_linked_listing"] > 0
    assert report["events"] == report["linked_listings"] - report["clusters"] and report["events_per_s"] > 0


def test_the_report_is_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--listings", "500", "--repeats", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["listings"] == 500


@pytest.mark.parametrize("argv", [["--listings", "1"], ["--duplicate-share", "0"], ["--repeats", "0"]])
def test_bad_arguments_are_refused(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        parse_args(argv)
    assert refused.value.code == 2
