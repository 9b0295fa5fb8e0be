"""The vector cache: chunk files written once each, so an interrupted build continues where it stopped.

    manifest.json          what the vectors depend on (listings, block size, seed, model's embedding version)
    chunk-0000.tsv         listing_id <TAB> duplicate group key ("" = no known duplicate), one line per vector
    chunk-0000.npy         float32 [n, dim]: the worker's own text vectors (encoder + reducer)
    model/                 the baseline model fitted for the cache, unless --model named one

A chunk counts as done when its .npy exists: it is renamed into place after its .tsv, never half-written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from infra.files import write_atomically, write_bytes_atomically

MANIFEST = "manifest.json"
DEFAULT_CACHE = Path.home() / ".cache" / "listing-dedup" / "index-bench"


class CacheError(RuntimeError):
    """A cache that does not match what was asked, or is not built yet."""


@dataclass(frozen=True)
class CachedVectors:
    vectors: np.ndarray  # float32 [n, dim], L2-normalised like the worker's
    ids: list[str]
    groups: np.ndarray  # int64 [n]: duplicate group number, -1 where no duplicate is among these n

    def __len__(self) -> int:
        return len(self.ids)


class VectorCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def vectors_path(self, index: int) -> Path:
        return self.folder / f"chunk-{index:04d}.npy"

    def entries_path(self, index: int) -> Path:
        return self.folder / f"chunk-{index:04d}.tsv"

    def start(self, manifest: dict[str, Any]) -> None:
        """Creates the cache, or checks that an existing one was started with the same manifest."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / MANIFEST
        if path.is_file():
            found = json.loads(path.read_text())
            if found != manifest:
                raise CacheError(f"{self.folder} holds another cache ({found}), not {manifest}: use another --cache")
            return
        write_bytes_atomically(path, (json.dumps(manifest, indent=2) + "\n").encode())

    def manifest(self) -> dict[str, Any]:
        path = self.folder / MANIFEST
        if not path.is_file():
            raise CacheError(f"no vector cache at {self.folder}: build it with python -m benchmarks.index.build_cache")
        return dict(json.loads(path.read_text()))

    def done(self) -> set[int]:
        return {int(path.stem.split("-")[1]) for path in self.folder.glob("chunk-*.npy")}

    def write_chunk(self, index: int, ids: Sequence[str], groups: Sequence[str], vectors: np.ndarray) -> None:
        if len(ids) != len(vectors) or len(groups) != len(ids):
            raise ValueError(f"chunk {index}: {len(ids)} ids, {len(groups)} groups, {len(vectors)} vectors")
        lines = "".join(f"{listing_id}\t{group}\n" for listing_id, group in zip(ids, groups, strict=True))
        write_bytes_atomically(self.entries_path(index), lines.encode())
        write_atomically(self.vectors_path(index), lambda path: _save_npy(path, vectors.astype(np.float32)))

    def load(self, limit: int | None = None) -> CachedVectors:
        """The first ``limit`` vectors (all when None) in cache order; fails on a cache not finished that far."""
        done = sorted(self.done())
        if done != list(range(len(done))):
            raise CacheError(f"{self.folder}: chunks {_missing(done)} are missing; run the build again to finish it")
        vectors: list[np.ndarray] = []
        ids: list[str] = []
        keys: list[str] = []
        for index in done:
            if limit is not None and len(ids) >= limit:
                break
            chunk = np.load(self.vectors_path(index))
            rows = self.entries_path(index).read_text().splitlines()
            vectors.append(chunk)
            ids += [row.split("\t", 1)[0] for row in rows]
            keys += [row.split("\t", 1)[1] for row in rows]
        if limit is not None and len(ids) < limit:
            raise CacheError(f"{self.folder} holds {len(ids)} vectors so far, {limit} were asked for")
        n = len(ids) if limit is None else limit
        return CachedVectors(np.concatenate(vectors)[:n], ids[:n], group_numbers(keys[:n]))


def group_numbers(keys: Sequence[str]) -> np.ndarray:
    """Group keys -> numbers; a key held by a single vector (its partners cut off or absent) -> -1."""
    counts: dict[str, int] = {}
    for key in keys:
        if key:
            counts[key] = counts.get(key, 0) + 1
    numbers: dict[str, int] = {}
    out = np.full(len(keys), -1, dtype=np.int64)
    for row, key in enumerate(keys):
        if key and counts[key] > 1:
            out[row] = numbers.setdefault(key, len(numbers))
    return out


def _save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as handle:  # np.save on a path would append .npy to the temporary name
        np.save(handle, array)


def _missing(done: list[int]) -> list[int]:
    return sorted(set(range(max(done, default=-1) + 1)) - set(done))
