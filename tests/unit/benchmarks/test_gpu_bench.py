"""benchmarks/gpu_bench.py --smoke: the device benchmark's code runs end to end on the CPU and reports figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks import gpu_bench

SECTIONS = ("text_minilm", "text_bert_base", "image_vit_b16", "cross_encoder", "worker_stages")
ENVIRONMENT = ("device", "card", "torch", "cuda", "transformers", "timm", "python")


def rates(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every ``*_per_s`` figure in the report, with where it sits."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_per_s"):
                yield f"{path}.{key}", item
            yield from rates(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from rates(item, f"{path}[{index}]")


@pytest.fixture(scope="module")
def smoke_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("gpu") / "gpu.json"
    assert gpu_bench.main(["--smoke", "--out", str(out)]) == 0
    return json.loads(out.read_text()), out


def test_smoke_reports_every_section_and_the_environment(smoke_report: tuple[dict[str, Any], Path]) -> None:
    report, _ = smoke_report
    assert report["smoke"] is True and report["device"] == "cpu"
    assert all(report[key] for key in ENVIRONMENT)
    assert report["skipped"] == []
    for section in SECTIONS:
        assert "error" not in report[section], report[section]
    text = report["text_bert_base"]["runs"]
    assert {(run["batch"], run["precision"]) for run in text} == {(b, p) for b in (64, 256) for p in ("fp32", "bf16")}
    assert {run["batch"] for run in report["image_vit_b16"]["model_only"]} == {64, 256}


def test_every_figure_is_positive(smoke_report: tuple[dict[str, Any], Path]) -> None:
    found = dict(rates(smoke_report[0]))
    assert len(found) == 19  # 2 text models x (tokenizer + 4 runs), 4 image runs + encode(), 2 cross, 2 worker
    assert {where: rate for where, rate in found.items() if not rate > 0} == {}


def test_printed_json_is_the_written_file(smoke_report: tuple[dict[str, Any], Path], capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    out = tmp_path / "again.json"
    gpu_bench.main(["--smoke", "--out", str(out), "--budget-s", "0"])  # nothing fits: every section skipped
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert len(printed["skipped"]) == len(SECTIONS)


def test_a_failing_section_is_reported_and_the_rest_still_run(tmp_path: Path) -> None:
    report = gpu_bench.Report(tmp_path / "r.json", budget_s=60, header={"benchmark": "gpu"})
    report.section("broken", lambda: 1 / 0)
    report.section("fine", lambda: {"x_per_s": 1.0})
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["broken"] == {"error": "ZeroDivisionError: division by zero"}
    assert saved["fine"] == {"x_per_s": 1.0}
