"""What the vector cache holds, in a fixed order: the shared sets' real listings, then synthetic blocks.

Chunk 0 is the real listings (every shared set, deduplicated by listing id: shopee-dev-catalog is a subset
of shopee-dev), their duplicate groups from every positive pair and truth.csv. Chunk k >= 1 is synthetic
block k-1: its own generated catalog (seed + k - 1), ids and clusters prefixed so blocks never collide.
The plan depends only on (total, block size, seed), so an interrupted build resumes chunk by chunk.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from encoders.listing import Listing, listing_text
from encoders.product_groups import group_roots

LISTINGS_PER_PRODUCT = 1.4  # the generator makes ~1.53 per product: asking for 1.4 leaves enough
NO_GROUP = ""


@dataclass(frozen=True)
class Entry:
    """One cached listing: its id, the text the worker's encoder reads, its duplicate group key."""

    listing_id: str
    text: str
    group: str  # NO_GROUP when it has no known duplicate


@dataclass(frozen=True)
class ChunkSpec:
    index: int
    size: int  # real chunk: how many real listings; synthetic: how many of the block's listings


def plan_chunks(total: int, real_available: int, block_size: int) -> list[ChunkSpec]:
    """Real listings first (at most half of a small cache, so tests see both kinds), then synthetic blocks."""
    real = min(real_available, total // 2)
    chunks = [ChunkSpec(0, real)]
    left = total - real
    for index in range(1, math.ceil(left / block_size) + 1):
        chunks.append(ChunkSpec(index, min(block_size, left)))
        left -= block_size
    return chunks


def worker_text(listing: dict[str, Any]) -> str | None:
    """What the worker's text encoder reads for this listing; None when the worker would reject it."""
    try:
        parsed = Listing.model_validate(listing)
    except ValidationError:
        return None
    return listing_text(parsed.model_dump())


def real_entries(data_root: Path) -> list[Entry]:
    """Every shared set's listings once, with groups joined across all their positive links."""
    from decider.datasets.labeled import load_dataset  # offline tooling: only where the cache is built

    listings: dict[str, dict[str, Any]] = {}
    links: list[tuple[str, str]] = []
    for folder in sorted(path.parent for path in data_root.glob("*/listings.jsonl")):
        dataset = load_dataset(folder)
        for listing_id, listing in dataset.listings.items():
            listings.setdefault(listing_id, listing)
        links += [tuple(sorted(pair)) for pair in dataset.duplicate_pairs()]  # type: ignore[misc]
        for split in dataset.splits():
            links += [(p.left_id, p.right_id) for p in dataset.pairs(split) if p.label == 1]
    return _entries(listings, links, prefix="real:")


def synthetic_entries(block: int, size: int, seed: int) -> list[Entry]:
    """The first ``size`` listings of synthetic block ``block`` (its own catalog, its own seed)."""
    from decider.synthetic.generator import generate_catalog

    catalog = generate_catalog(n_products=math.ceil(size / LISTINGS_PER_PRODUCT) + 5, seed=seed + block)
    if len(catalog.listings) < size:
        raise ValueError(f"synthetic block {block} has {len(catalog.listings)} listings, {size} were asked for")
    prefix = f"b{block}:"
    listings = {prefix + item["listing_id"]: {**item, "listing_id": prefix + item["listing_id"]}
                for item in catalog.listings[:size]}
    members: dict[str, list[str]] = {}
    for listing_id in listings:
        members.setdefault(catalog.truth[listing_id.removeprefix(prefix)], []).append(listing_id)
    links = [(group[0], other) for group in members.values() for other in group[1:]]
    return _entries(listings, links, prefix="")  # the ids carry the block's prefix already


def _entries(listings: dict[str, dict[str, Any]], links: list[tuple[str, str]], prefix: str) -> list[Entry]:
    """Listings in their order with a group key; a group of one (or only rejected partners) is NO_GROUP."""
    texts = {listing_id: worker_text(listing) for listing_id, listing in listings.items()}
    kept = [listing_id for listing_id, text in texts.items() if text is not None]
    roots = group_roots([(a, b) for a, b in links if texts.get(a) and texts.get(b)], kept)
    sizes: dict[str, int] = {}
    for root in roots.values():
        sizes[root] = sizes.get(root, 0) + 1
    return [Entry(listing_id, texts[listing_id] or "", _key(prefix, roots[listing_id], sizes)) for listing_id in kept]


def _key(prefix: str, root: str, sizes: dict[str, int]) -> str:
    return prefix + root if sizes[root] > 1 else NO_GROUP


def chunk_entries(spec: ChunkSpec, real: list[Entry], seed: int) -> list[Entry]:
    if spec.index == 0:
        return real[: spec.size]
    return synthetic_entries(spec.index - 1, spec.size, seed)


def iter_pending(specs: list[ChunkSpec], done: set[int]) -> Iterator[ChunkSpec]:
    """The chunks still to encode, in order: a resumed build skips the finished ones."""
    return (spec for spec in specs if spec.index not in done)
