"""`dedup eval` on a small generated set in the shared layout: pairs mode and stream mode."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from decider.bundle import ModelBundle
from decider.evaluation.review import (
    MISSED_BELOW_THRESHOLD,
    MISSED_NOT_CANDIDATE,
    REPORTED_DUPLICATE,
    REPORTED_WRONGLY,
)
from infra.stack.local import StackStatus
from stream.commands.cli import main
from stream.commands.demo import demo_on_stack
from stream.commands.evaluate import stream_report
from stream.commands.options import DemoOptions
from stream.settings import Settings

pytestmark = pytest.mark.integration
PAIR_KEYS = {"precision", "recall", "f1", "macro_f1", "threshold", "pairs", "positives"}


@pytest.fixture(scope="module")
def labeled_set(make_labeled_set: Callable[[int, int], Path]) -> Path:
    return make_labeled_set(60, 77)


def test_pair_eval_prints_the_metrics_as_json_and_writes_plots(
    labeled_set: Path, baseline_model: ModelBundle, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["eval", "--data", str(labeled_set), "--split", "test", "--model", str(baseline_model.directory), "--json", "--device", "cpu"])
    assert code == 0
    report = orjson.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert PAIR_KEYS <= set(report)
    assert 0 < report["f1"] <= 1 and 0 < report["macro_f1"] <= 1 and report["positives"] > 0
    assert report["threshold"] == pytest.approx(baseline_model.decider.threshold, abs=1e-5)
    assert {"tfidf_char_2_4_cosine", "raw_all-MiniLM-L6-v2_cosine"} <= set(report["baselines"])
    assert all(Path(path).is_file() for path in report["plots"])


def test_stream_eval_reports_candidate_recall(
    labeled_set: Path, baseline_model: ModelBundle, pipeline_settings: Settings, tmp_path: Path
) -> None:
    status = StackStatus(
        components=(),
        state_dir=tmp_path,
        kafka_bootstrap=pipeline_settings.kafka.bootstrap_servers,
        redis_url=pipeline_settings.redis.url.get_secret_value(),
        milvus_uri=pipeline_settings.milvus.uri,
    )
    options = DemoOptions(data=labeled_set, model=baseline_model.directory, seed=3, state_dir=tmp_path)
    pairs_out = tmp_path / "review.csv"
    report = stream_report(demo_on_stack(options, pipeline_settings, status, report=False, pairs_out=pairs_out))
    assert PAIR_KEYS | {"candidate_recall"} <= set(report)
    assert report["recall"] <= report["candidate_recall"] <= 1, "a pair cannot be found without being a candidate"
    assert report["candidate_recall"] > 0.5 and report["listings"] > 60

    # The review file holds every reported pair and every missed known pair, and agrees with the figures.
    with pairs_out.open(newline="", encoding="utf-8") as handle:
        verdicts = Counter(row["verdict"] for row in csv.DictReader(handle))
    assert verdicts == Counter({key: value for key, value in report["verdicts"].items() if value})
    assert verdicts[REPORTED_DUPLICATE] + verdicts[REPORTED_WRONGLY] == report["pairs"]
    assert verdicts[REPORTED_DUPLICATE] == round(report["recall"] * report["positives"])
    missed = verdicts[MISSED_NOT_CANDIDATE] + verdicts[MISSED_BELOW_THRESHOLD]
    assert verdicts[REPORTED_DUPLICATE] + missed == report["positives"]
    assert verdicts[MISSED_NOT_CANDIDATE] == round((1 - report["candidate_recall"]) * report["positives"])
