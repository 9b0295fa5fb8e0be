"""``dedup generate``: a synthetic catalog in the shared layout, bad arguments in one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from decider.datasets.labeled import load_dataset
from decider.synthetic.generator import generate_catalog
from decider.synthetic.product_lines import CATALOGUE_SIZE
from tests.paths import REPO_ROOT


def run_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stream.commands.cli", "generate", *arguments],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )


def test_cli_writes_a_loadable_catalog(tmp_path: Path) -> None:
    result = run_cli("--products", "60", "--seed", "4", "--out", str(tmp_path / "syn"))
    dataset = load_dataset(tmp_path / "syn")

    assert result.returncode == 0, result.stderr
    assert "of 60 products" in result.stdout
    assert [x["title"] for x in dataset.listings.values()] == [
        x["title"] for x in generate_catalog(60, seed=4).listings
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--products", "many"), "argument --products: not an integer"),
        (("--near-miss-rate", "2"), "argument --near-miss-rate: must be within [0, 1]"),
        (("--products", str(CATALOGUE_SIZE + 1)), "n_products must be within"),
    ],
)
def test_cli_reports_a_bad_argument_in_one_line(tmp_path: Path, arguments: tuple[str, ...], message: str) -> None:
    result = run_cli(*arguments, "--out", str(tmp_path / "syn"))

    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    assert message in result.stderr
    assert not (tmp_path / "syn").exists()
