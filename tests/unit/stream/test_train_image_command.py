"""``dedup train-image``'s flags and its one-line errors (the training itself: tests/unit/encoders/test_mae.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.commands.cli import build_parser, main
from stream.commands.flags import parsed
from stream.commands.options import TrainImageOptions


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


def test_flags_reach_the_options(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["train-image", "--images", "photos", "--out", "model"]
        + ["--max-minutes", "2.5", "--size", "base", "--epochs", "3"]
    )
    options = parsed(TrainImageOptions, args)
    assert (options.images, options.max_minutes, options.size, options.epochs) == (Path("photos"), 2.5, "base", 3)
    assert (options.device, options.seed, options.json) == ("auto", 0, False)


@pytest.mark.parametrize(
    ("extra", "needle", "expected_code"),
    [
        (["--size", "huge"], "invalid choice", 2),
        (["--max-minutes", "0"], "must be a positive number", 2),
        ([], "no images found under", 1),
    ],
)
def test_bad_arguments_are_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: list[str], needle: str, expected_code: int
) -> None:
    code, err = run_cli(capsys, "train-image", "--images", str(tmp_path), "--out", str(tmp_path / "out"), *extra)
    assert code == expected_code
    assert needle in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
