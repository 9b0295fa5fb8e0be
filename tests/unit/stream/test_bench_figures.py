"""`dedup bench`'s pure parts: percentiles, stage shares, batch sizes, the report's keys and summary, the CLI."""

from __future__ import annotations

import resource

import pytest

from stream.benchmark import stats
from stream.benchmark.report import REQUIRED_KEYS, missing_keys, summary
from stream.commands.cli import main
from stream.commands.exit_codes import EXIT_USAGE


def test_percentiles_interpolate_between_ranks_and_come_in_milliseconds() -> None:
    seconds = [0.04, 0.0, 0.02, 0.01, 0.03]  # 0 .. 40 ms, unsorted
    assert stats.percentiles_ms(seconds) == {"p50": 20.0, "p95": 38.0, "p99": 39.6}


def test_percentiles_of_nothing_are_none_not_zero() -> None:
    assert stats.percentiles_ms([]) == {"p50": None, "p95": None, "p99": None}


def test_stage_shares_are_of_wall_time_largest_first_with_the_rest_as_other() -> None:
    shares = stats.stage_shares({"search": 2.0, "encode": 6.0, "deliver": 0.0}, wall_s=10.0)
    assert list(shares) == ["encode", "search", "other"]
    assert shares == {"encode": 0.6, "search": 0.2, "other": 0.2}


def test_stage_shares_never_report_negative_other_time() -> None:
    assert stats.stage_shares({"encode": 11.0}, wall_s=10.0)["other"] == 0.0
    assert stats.stage_shares({"encode": 1.0}, wall_s=0.0) == {}


def test_batch_sizes_summary() -> None:
    assert stats.batch_size_summary([256, 256, 256, 232]) == {"count": 4, "mean": 250.0, "p50": 256.0, "max": 256}
    assert stats.batch_size_summary([])["mean"] is None


def test_rate_and_ratio_refuse_to_divide_by_nothing() -> None:
    assert stats.rate(100, 4.0) == 25.0
    assert stats.rate(100, 0.0) is None
    assert stats.ratio(115.6, 180.7) == 0.64
    assert stats.ratio(1.0, None) is None


def test_memory_figures_are_this_process_in_megabytes() -> None:
    peak = stats.peak_rss_mb()
    assert peak == round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    assert 10 < stats.rss_mb() <= peak + 1  # now never above the peak so far


def figures() -> dict[str, object]:
    return {
        "listings": 2000,
        "latency_listings": 500,
        "batch_size": 256,
        "encoder_titles_per_s": 180.7,
        "image_images_per_s": None,
        "worker_events_per_s": 115.6,
        "ratio": 0.64,
        "stage_share": {"encode": 0.6, "search": 0.2, "upsert": 0.05, "cache": 0.01, "other": 0.14},
        "batch_sizes": {"count": 8, "mean": 250.0, "p50": 256.0, "max": 256},
        "offered_load_per_s": 57.8,
        "latency_ms": {"p50": 1290.0, "p95": 2100.0, "p99": 2450.0},
        "latency_basis": "...",
        "peak_rss_mb": 1250.0,
        "rss_before_mb": 950.0,
        "machine": {"cpu_count": 2, "torch_threads": 2, "device": "cpu"},
    }


def test_the_report_names_every_required_key_and_the_summary_reads_them() -> None:
    assert missing_keys(figures()) == []
    assert missing_keys({"listings": 1}) == [key for key in REQUIRED_KEYS if key != "listings"]
    text = summary(figures())
    assert "115.6 events/s, ratio 0.64" in text
    assert "encode 60 %, search 20 %, upsert 5 %, cache 1 %" in text
    assert "p99 2450.0 ms" in text and "images" not in text


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["bench", "--listings", "0"], "--listings: must be a positive integer"),
        (["bench", "--load", "1.5"], "--load: must be between 0 and 1"),
        (["bench", "--bootstrap-servers", "x:1"], "unrecognized arguments"),
    ],
)
def test_bad_flags_are_one_line(argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == EXIT_USAGE
    error = capsys.readouterr().err
    assert complaint in error and error.count("\n") == 1
