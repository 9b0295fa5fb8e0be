"""infra.files: a reader never sees half a file, and a failed write leaves the old one and no litter."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.files import write_atomically, write_bytes_atomically


def test_the_new_content_replaces_the_old(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    target.write_text("old")
    write_bytes_atomically(target, b"new")
    assert target.read_bytes() == b"new"
    assert [path.name for path in tmp_path.iterdir()] == ["model.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "reducer.npz"
    target.write_bytes(b"complete")

    def half_then_crash(temporary: Path) -> None:
        temporary.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half_then_crash)
    assert target.read_bytes() == b"complete"
    assert [path.name for path in tmp_path.iterdir()] == ["reducer.npz"]
