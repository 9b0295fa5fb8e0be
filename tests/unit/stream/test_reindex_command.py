"""``dedup reindex``'s flags: the new model is required, the old collection is kept unless told otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from stream.commands.cli import build_parser
from stream.commands.reindex import ReindexOptions, parsed_reindex


def options(*flags: str) -> ReindexOptions:
    return parsed_reindex(build_parser().parse_args(["reindex", *flags]))


def test_the_old_collection_is_kept_by_default_and_dropped_only_when_asked() -> None:
    assert options("--model", "m") == ReindexOptions(model=Path("m"), source="stored", drop_old=False)
    assert options("--model", "m", "--keep-old").drop_old is False
    assert options("--model", "m", "--drop-old", "--from", "topic") == ReindexOptions(Path("m"), "topic", True)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ((), "the following arguments are required: --model"),
        (("--model", "m", "--from", "nowhere"), "argument --from: invalid choice: 'nowhere'"),
        (("--model", "m", "--keep-old", "--drop-old"), "argument --drop-old: not allowed with argument --keep-old"),
    ],
)
def test_bad_arguments_get_one_line(flags: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["reindex", *flags])
    error = capsys.readouterr().err
    assert exited.value.code == 2 and error.count("\n") == 1 and message in error
