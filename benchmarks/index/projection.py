"""From measured index memory to bytes per listing and the RAM of a 200M-listing catalog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

VECTOR_FIELDS_PER_LISTING = 2  # text + image, both 128-d with the same index type
CATALOG_LISTINGS = 200_000_000
GOAL_BYTES_PER_LISTING = 128
GOAL_RECALL_RATIO = 0.95


@dataclass(frozen=True)
class Projection:
    bytes_per_vector: float
    bytes_per_listing: float
    catalog_listings: int
    catalog_ram_gb: float  # decimal GB, as the paper's "~100 GB for 200M+" is written

    def as_dict(self) -> dict[str, Any]:
        return {key: round(value, 2) if isinstance(value, float) else value for key, value in asdict(self).items()}


def project(memory_bytes: float, vectors: int, catalog: int = CATALOG_LISTINGS) -> Projection:
    """Bytes per vector of one field; a listing holds VECTOR_FIELDS_PER_LISTING such fields."""
    if vectors <= 0:
        raise ValueError("no vectors to divide the memory by")
    per_vector = max(0.0, memory_bytes) / vectors
    per_listing = per_vector * VECTOR_FIELDS_PER_LISTING
    return Projection(per_vector, per_listing, catalog, per_listing * catalog / 1e9)


def raw_bytes_per_vector(index_type: str, dim: int, params: Mapping[str, int | str]) -> float:
    """What the index's codes alone take per vector (graph links and ids excluded): a floor for the RSS."""
    if index_type in ("IVF_SQ8", "HNSW_SQ"):
        return float(dim)
    if index_type == "IVF_PQ":
        return int(params.get("m", dim // 8)) * int(params.get("nbits", 8)) / 8
    if index_type == "IVF_RABITQ":
        return dim / 8
    return 4.0 * dim  # float32: FLAT, IVF_FLAT, HNSW (+ its links)


def meets_goal(bytes_per_listing: float, recall_ratio: float) -> bool:
    """The issue's target: at most 128 B per listing at 95 % or more of exact search's duplicate recall."""
    return bytes_per_listing <= GOAL_BYTES_PER_LISTING and recall_ratio >= GOAL_RECALL_RATIO
