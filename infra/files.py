"""Files and folders that readers may open at any moment: written beside the target, then renamed into place."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Write via a sibling temp file and rename, so a crash never leaves a half-written file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes_atomically(path: Path, content: bytes) -> None:
    write_atomically(path, lambda temporary: temporary.write_bytes(content))


@contextmanager
def staged_folder(folder: Path) -> Iterator[Path]:
    """A sibling staging folder to fill; when the block ends without error it replaces ``folder`` whole,
    so ``folder`` is never half-written (a crash leaves the previous one)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        yield staging
        shutil.rmtree(folder, ignore_errors=True)  # a rename cannot replace a folder
        os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def require_new_folder(out_dir: Path, flag: str, error: type[Exception] = FileExistsError) -> None:
    """Refuses an ``out_dir`` that exists and is not an empty folder; checked before a long training, so a
    bad path fails in a second, not after the run."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise error(f"{out_dir} already exists and is not an empty folder; pick a new {flag} or remove it")
