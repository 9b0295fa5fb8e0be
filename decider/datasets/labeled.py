"""Labeled product-matching data in the shared layout: reading, checking and writing it.

A dataset is a folder::

    listings.jsonl          one listing-created event per line (checked with encoders.listing.Listing)
    pairs/<split>.csv       left_id,right_id,label   (label 1 = same product, 0 = different)
    truth.csv               listing_id,cluster_id    (optional; equal cluster ids = duplicates)

Everything is read and checked when the folder is loaded, so a malformed file fails at once
with one line naming the file, the line and the problem, not halfway through an evaluation.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson

from encoders.listing import InvalidListing, parse_listing_json
from encoders.product_groups import pairs_within_groups
from infra.files import write_bytes_atomically

LISTINGS_FILE = "listings.jsonl"
TRUTH_FILE = "truth.csv"
PAIRS_DIR = "pairs"
ALL_SPLIT = "all"
PAIR_COLUMNS = ("left_id", "right_id", "label")
TRUTH_COLUMNS = ("listing_id", "cluster_id")


class DatasetError(ValueError):
    """A dataset folder or file is missing or malformed; the message names file, line and problem."""


@dataclass(frozen=True)
class LabeledPair:
    left_id: str
    right_id: str
    label: int

    def key(self) -> frozenset[str]:
        """The unordered pair: (a, b) and (b, a) are the same question."""
        return frozenset((self.left_id, self.right_id))


_NO_PAIRS: Mapping[str, Sequence[LabeledPair]] = MappingProxyType({})


@dataclass
class Dataset:
    """A loaded dataset. ``listings`` keeps file order; pairs and truth were validated on load."""

    name: str
    root: Path
    listings: dict[str, dict[str, Any]] = field(repr=False)
    split_pairs: dict[str, list[LabeledPair]] = field(default_factory=dict, repr=False)
    truth: dict[str, str] | None = field(default=None, repr=False)

    def splits(self) -> list[str]:
        """Names of the pair files (``pairs/<name>.csv``), sorted."""
        return sorted(self.split_pairs)

    def pairs(self, split: str) -> list[LabeledPair]:
        try:
            return list(self.split_pairs[split])
        except KeyError:
            available = ", ".join(self.splits()) or "none"
            raise DatasetError(
                f"{self.name}: no pair split {split!r} in {self.root / PAIRS_DIR}; available: {available}"
            ) from None

    def duplicate_pairs(self) -> set[frozenset[str]]:
        """Every known duplicate pair, from the most complete source the dataset has.

        truth.csv clusters when present (they include pairs implied by transitivity), else the
        positives of ``pairs/all.csv``, else the positives of every split together.
        """
        if self.truth is not None:
            return pairs_within_groups(self.truth)
        sources = [ALL_SPLIT] if ALL_SPLIT in self.split_pairs else self.splits()
        return {pair.key() for split in sources for pair in self.split_pairs[split] if pair.label == 1}

    def clusters(self) -> dict[str, str] | None:
        """listing_id -> cluster_id from truth.csv, or None when the dataset has no truth.csv."""
        return None if self.truth is None else dict(self.truth)


def load_dataset(root: Path | str) -> Dataset:
    """Read and validate a dataset folder; raises DatasetError on the first problem found."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: not a directory")
    listings_path = root / LISTINGS_FILE
    if not listings_path.is_file():
        present = ", ".join(sorted(entry.name for entry in root.iterdir())) or "nothing"
        raise DatasetError(f"{listings_path}: missing; this folder is not in the listings layout (it holds: {present})")
    listings = _read_listings(listings_path)
    split_pairs = {path.stem: _read_pairs(path, listings) for path in sorted((root / PAIRS_DIR).glob("*.csv"))}
    truth_path = root / TRUTH_FILE
    truth = _read_truth(truth_path, listings) if truth_path.is_file() else None
    return Dataset(name=root.resolve().name, root=root, listings=listings, split_pairs=split_pairs, truth=truth)


def write_dataset(
    root: Path,
    listings: Sequence[Mapping[str, Any]],
    *,
    pairs: Mapping[str, Sequence[LabeledPair]] = _NO_PAIRS,
    truth: Mapping[str, str] | None = None,
    overwrite: bool = False,
) -> None:
    """Write a dataset in the shared layout; ``load_dataset(root)`` gives the same data back.

    Refuses to replace an existing dataset unless ``overwrite``; then the old pair files and
    truth.csv go too, so the folder holds exactly what was written.
    """
    root = Path(root)
    listing_ids = _check_listings_to_write(listings)
    _check_pairs_to_write(pairs, listing_ids)
    if truth is not None:
        _check_truth_to_write(truth, listing_ids)
    _prepare_root(root, overwrite=overwrite)
    write_bytes_atomically(root / LISTINGS_FILE, b"".join(_jsonl_line(listing) for listing in listings))
    for split, split_pairs in pairs.items():
        rows = [(pair.left_id, pair.right_id, str(pair.label)) for pair in split_pairs]
        write_bytes_atomically(root / PAIRS_DIR / f"{split}.csv", _csv_bytes(PAIR_COLUMNS, rows))
    if truth is not None:
        write_bytes_atomically(root / TRUTH_FILE, _csv_bytes(TRUTH_COLUMNS, list(truth.items())))


# --- reading -------------------------------------------------------------------------------------


def _read_listings(path: Path) -> dict[str, dict[str, Any]]:
    listings: dict[str, dict[str, Any]] = {}
    with path.open("rb") as lines:
        for line_number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            listing = _parse_listing(raw, path, line_number)
            listing_id = listing["listing_id"]
            if listing_id in listings:
                raise DatasetError(f"{path}:{line_number}: duplicate listing_id {listing_id!r}")
            listings[listing_id] = listing
    return listings


def _parse_listing(raw: bytes, path: Path, line_number: int) -> dict[str, Any]:
    """The line's raw object, once the Listing model (what the worker accepts) has accepted it."""
    try:
        listing, _validated = parse_listing_json(raw)
    except InvalidListing as exc:
        raise DatasetError(f"{path}:{line_number}: {exc}") from None
    return listing


def _read_pairs(path: Path, listings: Mapping[str, Any]) -> list[LabeledPair]:
    pairs = []
    for line_number, row in _csv_rows(path, PAIR_COLUMNS):
        left_id, right_id, label = row["left_id"], row["right_id"], row["label"].strip()
        for listing_id in (left_id, right_id):
            if listing_id not in listings:
                raise DatasetError(f"{path}:{line_number}: listing id {listing_id!r} is not in {LISTINGS_FILE}")
        if left_id == right_id:
            raise DatasetError(f"{path}:{line_number}: listing {left_id!r} is paired with itself")
        if label not in ("0", "1"):
            raise DatasetError(f"{path}:{line_number}: label must be 0 or 1, got {row['label']!r}")
        pairs.append(LabeledPair(left_id, right_id, int(label)))
    return pairs


def _read_truth(path: Path, listings: Mapping[str, Any]) -> dict[str, str]:
    truth: dict[str, str] = {}
    for line_number, row in _csv_rows(path, TRUTH_COLUMNS):
        listing_id, cluster_id = row["listing_id"], row["cluster_id"]
        if listing_id not in listings:
            raise DatasetError(f"{path}:{line_number}: listing id {listing_id!r} is not in {LISTINGS_FILE}")
        if not cluster_id:
            raise DatasetError(f"{path}:{line_number}: empty cluster_id for {listing_id!r}")
        if listing_id in truth:
            raise DatasetError(f"{path}:{line_number}: listing id {listing_id!r} appears twice")
        truth[listing_id] = cluster_id
    return truth


def _csv_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows as dicts with their line numbers; the header must name every required column."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise DatasetError(f"{path}:1: empty file, expected the header {','.join(columns)}")
        missing = [column for column in columns if column not in header]
        if missing:
            raise DatasetError(f"{path}:1: header {','.join(header)!r} lacks column(s) {', '.join(missing)}")
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise DatasetError(f"{path}:{reader.line_num}: expected {len(header)} fields, got {len(row)}")
            yield reader.line_num, dict(zip(header, row, strict=True))


def _check_listings_to_write(listings: Sequence[Mapping[str, Any]]) -> set[str]:
    listing_ids: set[str] = set()
    for position, listing in enumerate(listings):
        listing_id = listing.get("listing_id")
        if not isinstance(listing_id, str) or not listing_id.strip():
            raise DatasetError(f"listing #{position}: listing_id must be a non-empty string, got {listing_id!r}")
        title = listing.get("title")
        if not isinstance(title, str) or not title.strip():
            raise DatasetError(f"listing {listing_id!r}: title must be a non-empty string, got {title!r}")
        if listing_id in listing_ids:
            raise DatasetError(f"listing {listing_id!r} appears twice")
        listing_ids.add(listing_id)
    return listing_ids


def _check_pairs_to_write(pairs: Mapping[str, Sequence[LabeledPair]], listing_ids: set[str]) -> None:
    for split, split_pairs in pairs.items():
        if not split or Path(split).name != split or split.startswith("."):
            raise DatasetError(f"split name {split!r} is not a plain file name")
        for pair in split_pairs:
            unknown = [i for i in (pair.left_id, pair.right_id) if i not in listing_ids]
            if unknown:
                raise DatasetError(f"split {split!r}: pair {pair} names unknown listing id {unknown[0]!r}")
            if pair.label not in (0, 1):
                raise DatasetError(f"split {split!r}: pair {pair} has label {pair.label!r}, expected 0 or 1")


def _check_truth_to_write(truth: Mapping[str, str], listing_ids: set[str]) -> None:
    for listing_id, cluster_id in truth.items():
        if listing_id not in listing_ids:
            raise DatasetError(f"truth names unknown listing id {listing_id!r}")
        if not isinstance(cluster_id, str) or not cluster_id:
            raise DatasetError(f"truth: cluster id of {listing_id!r} must be a non-empty string, got {cluster_id!r}")


def _prepare_root(root: Path, *, overwrite: bool) -> None:
    if (root / LISTINGS_FILE).exists():
        if not overwrite:
            raise FileExistsError(f"{root} already holds a dataset; pass overwrite=True to replace it")
        for stale in [root / TRUTH_FILE, *(root / PAIRS_DIR).glob("*.csv")]:
            stale.unlink(missing_ok=True)
    (root / PAIRS_DIR).mkdir(parents=True, exist_ok=True)


def _jsonl_line(listing: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(dict(listing), option=orjson.OPT_APPEND_NEWLINE)
    except TypeError as exc:
        raise DatasetError(f"listing {listing.get('listing_id')!r} is not JSON-serialisable: {exc}") from None


def _csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    lines = [",".join(header)] + [",".join(_csv_field(value) for value in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _csv_field(value: str) -> str:
    # Not csv.writer: with "\n" line ends it leaves a bare "\r" unquoted, which readers then take as a line end.
    if any(special in value for special in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value
