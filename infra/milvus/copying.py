"""Whole-collection reads and raw-row writes, for ``dedup reindex``: every stored field, batch by batch.

Rows are plain dicts of field values, so fields this module does not know (added by later releases)
travel from one collection to the other untouched. Fields Milvus derives (the BM25 sparse vector,
a function's output) can only be read, never written: :class:`CollectionFields` tells them apart.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infra.milvus.chunking import CONSISTENCY
from infra.milvus.failures import FAILURES, translate
from infra.milvus.schema import FIRST_SEEN_FIELD, MODEL_VERSION_PROPERTY
from infra.milvus.store import DEFAULT_REQUEST_TIMEOUT_S, ListingStore

COPY_BATCH_ROWS = 512
PRIMARY_KEY = "listing_id"


@dataclass(frozen=True)
class CollectionFields:
    """A collection's fields in schema order, and those Milvus computes itself."""

    names: tuple[str, ...]
    derived: frozenset[str]

    @property
    def writable(self) -> tuple[str, ...]:
        return tuple(name for name in self.names if name not in self.derived)


def stored_model_version(store: ListingStore, collection: str) -> str:
    """The model version a collection was built with ('' when none is recorded)."""
    with milvus_errors(store, "describe", collection):
        description = store.milvus_client().describe_collection(collection, timeout=DEFAULT_REQUEST_TIMEOUT_S)
    return str((description.get("properties") or {}).get(MODEL_VERSION_PROPERTY) or "")


def collection_fields(store: ListingStore) -> CollectionFields:
    with milvus_errors(store, "describe"):
        description = store.milvus_client().describe_collection(store.collection, timeout=DEFAULT_REQUEST_TIMEOUT_S)
    names = tuple(str(field["name"]) for field in description["fields"])
    derived = {str(field["name"]) for field in description["fields"] if field.get("is_function_output")}
    for function in description.get("functions") or []:
        derived.update(str(name) for name in function.get("output_field_names") or [])
    return CollectionFields(names, frozenset(derived))


def iterate_rows(
    store: ListingStore,
    fields: Sequence[str],
    *,
    first_seen_from_ms: int | None = None,
    batch_size: int = COPY_BATCH_ROWS,
) -> Iterator[list[dict[str, Any]]]:
    """Every row of the store's collection (or those first stored at or after ``first_seen_from_ms``),
    ``batch_size`` at a time, in primary-key order."""
    expression = "" if first_seen_from_ms is None else f"{FIRST_SEEN_FIELD} >= {int(first_seen_from_ms)}"
    with milvus_errors(store, "query_iterator"):
        iterator = store.milvus_client().query_iterator(
            store.collection,
            batch_size=batch_size,
            filter=expression,
            output_fields=list(fields),
            timeout=DEFAULT_REQUEST_TIMEOUT_S,
            consistency_level=CONSISTENCY,
        )
    try:
        while True:
            with milvus_errors(store, "query_iterator"):
                batch = iterator.next()
            if not batch:
                return
            yield [dict(row) for row in batch]
    finally:
        iterator.close()


def upsert_rows(store: ListingStore, rows: Sequence[Mapping[str, Any]]) -> None:
    """Writes whole rows as they are (the caller leaves derived fields out)."""
    if rows:
        with milvus_errors(store, "upsert"):
            store.milvus_client().upsert(store.collection, list(rows), timeout=DEFAULT_REQUEST_TIMEOUT_S)


def listing_ids(store: ListingStore) -> set[str]:
    return {str(row[PRIMARY_KEY]) for batch in iterate_rows(store, [PRIMARY_KEY], batch_size=4_096) for row in batch}


@contextmanager
def milvus_errors(store: ListingStore, action: str, collection: str | None = None) -> Iterator[None]:
    """The store's one-line errors (StoreError, StoreUnavailable) for calls made beside it."""
    try:
        yield
    except FAILURES as exc:
        where = f"Milvus {action} on collection '{collection or store.collection}' at {store.shown_uri}"
        raise translate(where, exc) from exc
