"""Build and search parameters per index type: the worker's own profiles (infra.milvus.schema), overridable."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.milvus.schema import index_profiles

DEFAULT_TYPES = ("FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "HNSW_SQ", "IVF_RABITQ")
IVF_TYPES = ("IVF_FLAT", "IVF_SQ8", "IVF_PQ", "IVF_RABITQ")
HNSW_TYPES = ("HNSW", "HNSW_SQ")


@dataclass(frozen=True)
class Overrides:
    """Command-line values that replace the profiles' (None: keep the profile's)."""

    nlist: int | None = None
    nprobe: int | None = None
    m: int | None = None  # HNSW links per node
    ef_construction: int | None = None
    ef: int | None = None
    pq_m: int | None = None  # IVF_PQ sub-quantizers


@dataclass(frozen=True)
class IndexPlan:
    index_type: str
    build_params: dict[str, int | str] = field(default_factory=dict)
    search_params: dict[str, int] = field(default_factory=dict)


def index_plan(index_type: str, dim: int, limit: int, overrides: Overrides = Overrides()) -> IndexPlan:
    """The profile the worker would use (HNSW_SQ and IVF_RABITQ, absent there, like HNSW and IVF_FLAT)."""
    profiles = index_profiles(dim)
    base = {"HNSW_SQ": "HNSW", "IVF_RABITQ": "IVF_FLAT"}.get(index_type, index_type)
    if base not in profiles:
        raise ValueError(f"unknown index type {index_type!r}; known: {', '.join(DEFAULT_TYPES)}")
    build: dict[str, int | str] = dict(profiles[base].build_params)
    search = dict(profiles[base].search_params(limit))
    if index_type == "HNSW_SQ":
        build["sq_type"] = "SQ8"
    _override(build, search, index_type, overrides)
    return IndexPlan(index_type, build, search)


def _override(build: dict[str, int | str], search: dict[str, int], index_type: str, given: Overrides) -> None:
    if index_type in IVF_TYPES:
        _put(build, "nlist", given.nlist)
        _put(search, "nprobe", given.nprobe)
    if index_type in HNSW_TYPES:
        _put(build, "M", given.m)
        _put(build, "efConstruction", given.ef_construction)
        _put(search, "ef", given.ef)
    if index_type == "IVF_PQ":
        _put(build, "m", given.pq_m)


def _put(params: dict, key: str, value: int | None) -> None:  # type: ignore[type-arg]
    if value is not None:
        params[key] = value
