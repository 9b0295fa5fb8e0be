"""What updates and deletes read from and write to the collection: each listing's reported matches.

Every listing row keeps the matches its own latest duplicate-found event named and that event's id
(``reported_matches``, ``reported_event``). An update compares them with its new check; a delete finds the
later listings whose events named it with ``array_contains_any`` and rewrites their rows without it. Milvus
2.3 upserts whole rows only, so a rewrite reads back every stored field except those Milvus derives itself
(the BM25 vector). Pure helpers: :class:`infra.milvus.store.ListingStore` makes the calls.

Collections created before these fields are read without retractions: updates and deletes still apply,
nothing was recorded to retract (``dedup reindex`` builds a collection that has them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infra.milvus.schema import (
    ATTRIBUTES_FIELD,
    CODES_FIELD,
    FIRST_SEEN_FIELD,
    IMAGE_FIELD,
    LEXICAL_TEXT_FIELD,
    MATCH_GROUP_FIELD,
    REPORTED_EVENT_FIELD,
    REPORTED_MATCHES_FIELD,
    TEXT_FIELD,
    string_list_literal,
)

log = logging.getLogger(__name__)

# Stored by the worker for each row; the BM25 sparse vector is derived by Milvus from LEXICAL_TEXT_FIELD.
_BASE_FIELDS = [
    "listing_id", TEXT_FIELD, IMAGE_FIELD, "has_image", "category", "seller_id", "created_at", FIRST_SEEN_FIELD,
    "price", ATTRIBUTES_FIELD, CODES_FIELD,
]


@dataclass(frozen=True)
class StoredState:
    """What the store knows of a listing before a batch changes it."""

    first_seen_ms: int
    reported_event: str = ""
    reported_matches: tuple[str, ...] = ()  # best first


def state_fields(reported: bool) -> list[str]:
    return ["listing_id", FIRST_SEEN_FIELD, *([REPORTED_EVENT_FIELD, REPORTED_MATCHES_FIELD] if reported else [])]


def state_from_row(row: Mapping[str, Any]) -> tuple[str, StoredState]:
    state = StoredState(
        first_seen_ms=int(row[FIRST_SEEN_FIELD]),
        reported_event=str(row.get(REPORTED_EVENT_FIELD) or ""),
        reported_matches=tuple(str(match) for match in row.get(REPORTED_MATCHES_FIELD) or ()),
    )
    return str(row["listing_id"]), state


def ids_filter(ids: Sequence[str]) -> str:
    """Not pymilvus' ids=: it quotes string keys without escaping them (a ' ends the literal)."""
    return f"listing_id in {string_list_literal(ids)}"


def naming_filter(ids: Sequence[str]) -> str:
    """Rows whose own event named any of ``ids`` (every value an escaped literal)."""
    return f"array_contains_any({REPORTED_MATCHES_FIELD}, {string_list_literal(ids)})"


def writable_fields(*, lexical: bool, groups: bool) -> list[str]:
    """Every field a rewrite must hand back (a collection with reported matches)."""
    return [
        *_BASE_FIELDS,
        *([MATCH_GROUP_FIELD] if groups else []),
        *([LEXICAL_TEXT_FIELD] if lexical else []),
        REPORTED_MATCHES_FIELD,
        REPORTED_EVENT_FIELD,
    ]


def reported_matches(row: Mapping[str, Any]) -> list[str]:
    return [str(match) for match in row.get(REPORTED_MATCHES_FIELD) or ()]


def without_matches(row: Mapping[str, Any], gone: Iterable[str]) -> dict[str, Any]:
    """The row with ``gone`` dropped from its reported matches (its event id kept: the rest still stands)."""
    removed = set(gone)
    return {**row, REPORTED_MATCHES_FIELD: [match for match in reported_matches(row) if match not in removed]}


def unique_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per listing id (chunked queries may return a row twice)."""
    return list({str(row["listing_id"]): dict(row) for row in rows}.values())


def warn_without_retractions(collection: str) -> None:
    log.warning(
        "retractions off: collection %r predates reported matches, so updates and deletes apply but emit no"
        " duplicate-retracted events (`dedup reindex` builds a collection with them)", collection,
    )
