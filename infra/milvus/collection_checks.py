"""What an existing collection and the server must offer this worker: model version, fields, index, features.

Pure checks on what Milvus reported; :class:`infra.milvus.store.ListingStore` makes the calls. ``where``
names the collection in messages (its URI already masked).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from infra.milvus.errors import StoreError, StoreVersionMismatch
from infra.milvus.schema import MODEL_VERSION_PROPERTY, REQUIRED_FIELDS, TEXT_FIELD, IndexProfile

log = logging.getLogger(__name__)


def check_model_version(properties: Mapping[str, Any], expected: str, where: str) -> None:
    """Vectors from two models are not comparable: a collection serves the model that built it."""
    stored = properties.get(MODEL_VERSION_PROPERTY)
    if stored != expected:
        raise StoreVersionMismatch(
            f"collection {where} was built with model {stored or '<none recorded>'} but this worker loads model"
            f" {expected}; use a new collection (DEDUP_MILVUS_COLLECTION) or the matching model"
        )


def check_schema(fields: Mapping[str, Mapping[str, Any]], dim: int, where: str) -> None:
    missing = [name for name in REQUIRED_FIELDS if name not in fields]
    if missing:
        raise StoreError(
            f"collection {where} lacks fields {missing}: it was not created by listing-dedup;"
            " use another collection name"
        )
    stored_dim = int(fields[TEXT_FIELD]["params"]["dim"])
    if stored_dim != dim:
        raise StoreError(
            f"collection {where} stores {stored_dim}-d vectors but this worker produces {dim}-d vectors;"
            " use another collection"
        )


def check_buildable_index(index_type: str, profiles: Mapping[str, IndexProfile], is_lite: bool, where: str) -> None:
    if index_type not in profiles:
        raise StoreError(f"unknown Milvus index type {index_type!r}; use one of {', '.join(profiles)}")
    if is_lite and not profiles[index_type].lite_can_build:
        buildable = ", ".join(name for name, profile in profiles.items() if profile.lite_can_build)
        raise StoreError(
            f"Milvus Lite ({where}) cannot build index type {index_type}; use one of {buildable}, or a Milvus server"
        )


def existing_index_type(
    index: Mapping[str, Any], requested: str, profiles: Mapping[str, IndexProfile], collection: str
) -> str:
    """The index type an existing collection has (kept: rebuilding is the operator's call), with a warning
    where it, or its IVF lists, differ from what the settings ask for."""
    existing = str(index.get("index_type", requested)).upper()
    if existing != requested:
        log.warning(
            "collection %r already has index type %s; ignoring the requested %s (drop the collection to rebuild)",
            collection, existing, requested,
        )
    profile = profiles.get(existing)
    built_nlist, wanted_nlist = index.get("nlist"), profile.build_params.get("nlist") if profile else None
    if built_nlist is not None and wanted_nlist is not None and int(built_nlist) != wanted_nlist:
        log.warning(  # a server reports it; Lite does not
            "collection %r was indexed with nlist %s; DEDUP_MILVUS_IVF_NLIST=%s applies to new indexes only",
            collection, built_nlist, wanted_nlist,
        )
    return existing


def parse_server_version(version: object) -> tuple[int, int]:
    """(major, minor) of what the server reports; an unreadable one is taken as current."""
    match = re.search(r"(\d+)\.(\d+)", str(version))
    return (int(match.group(1)), int(match.group(2))) if match else (99, 0)


def warn_about_channels_off(collection: str, lexical_requested: bool, lexical: bool, groups: bool) -> None:
    """One line for each candidate channel an existing collection cannot serve."""
    if lexical_requested and not lexical:
        log.warning(
            "lexical candidates (shared words, identifiers, photo hashes) off: collection %r has no BM25 field"
            " (Milvus before 2.5, or created without the channel; a new collection gets it)", collection,
        )
    if not groups:
        log.warning(
            "match groups off: collection %r predates them, so a listing is compared with its nearest"
            " neighbours only (a new collection gets them)", collection,
        )
