"""A valid listing of a micro-batch, what is derived from it once, and the row it becomes in Milvus."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import orjson

from decider.features.codes import listing_codes
from encoders.lexical import lexical_document
from encoders.listing import Listing, decider_fields, listing_text
from infra.milvus.lifecycle import StoredState
from infra.milvus.records import ListingRecord
from infra.milvus.schema import MAX_LABEL_LENGTH
from stream.events import ListingUpdated, SourcePosition
from stream.worker.lifecycle import Deletion


@dataclass(frozen=True)
class Incoming:
    listing: Listing  # listing-created or listing-updated
    source: SourcePosition
    timestamp_ms: int
    # From the listing's photo, where the listing did not carry ``image_phash`` itself.
    photo_phash: str | None = None
    # Why its photo could not be used ("timeout: …"); the listing is matched on text alone.
    photo_error: str | None = None

    @property
    def created_at_ms(self) -> int:
        created = self.listing.created_at_ms()
        return created if created is not None else self.timestamp_ms

    @property
    def is_update(self) -> bool:
        return isinstance(self.listing, ListingUpdated)

    @cached_property
    def revision(self) -> str:
        """Part of an update's event id: what the decider reads besides the vectors (price, description…),
        so an update of those alone gets a new id. "" for listing-created: its id is unchanged."""
        if not self.is_update:
            return ""
        return hashlib.sha256(orjson.dumps(self.attributes, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]

    @property
    def image_phash(self) -> str | None:
        return self.listing.image_phash or self.photo_phash

    # Derived once per listing and batch: each is read at several steps and, for attributes,
    # once per candidate pair (the features cache parsed listings by object identity).
    @cached_property
    def content_hash(self) -> str:
        return self.listing.content_hash()

    @cached_property
    def fields(self) -> dict[str, Any]:
        fields = self.listing.model_dump()
        fields["image_phash"] = self.image_phash
        return fields

    @cached_property
    def text(self) -> str:
        """What the text encoder and the lexical channel read."""
        return listing_text(self.fields)

    @cached_property
    def attributes(self) -> dict[str, Any]:
        """Stored with the vectors so that candidates carry what the decider compares."""
        return decider_fields(self.fields)

    @cached_property
    def codes(self) -> tuple[str, ...]:
        """Normalised identifiers from the model number and the title."""
        return listing_codes(self.fields)

    @cached_property
    def lexical(self) -> str:
        """What the lexical channel indexes and searches: words, identifiers, photo hash."""
        return lexical_document(self.text, self.codes, self.image_phash)


def latest_per_listing(batch: Sequence[Incoming | Deletion]) -> list[Incoming | Deletion]:
    """A listing with several events in one batch counts once, with its latest: the newest content, or its
    deletion (a listing created and deleted in one batch is never stored). In first-seen order."""
    latest: dict[str, Incoming | Deletion] = {}
    for item in batch:
        latest[_listing_id(item)] = item
    return list(latest.values())


def split_ops(batch: Sequence[Incoming | Deletion]) -> tuple[list[Incoming], list[Deletion]]:
    """The listings to store and check, and the deletions."""
    return [i for i in batch if isinstance(i, Incoming)], [i for i in batch if isinstance(i, Deletion)]


def _listing_id(item: Incoming | Deletion) -> str:
    return item.listing_id if isinstance(item, Deletion) else item.listing.listing_id


def listing_record(
    item: Incoming,
    text_vector: np.ndarray,
    photo_vector: np.ndarray | None,
    first_seen_ms: int,
    previous: StoredState | None = None,
) -> ListingRecord:
    """The row for ``item``; what its previous event reported is kept until the new events are delivered."""
    listing = item.listing
    return ListingRecord(
        listing_id=listing.listing_id,
        text_vector=text_vector,
        image_vector=photo_vector,
        category=clip_utf8(listing.category),
        seller_id=clip_utf8(listing.seller_id),
        created_at_ms=item.created_at_ms,
        price=listing.price,
        attributes=item.attributes,
        codes=item.codes,
        first_seen_ms=first_seen_ms,
        text=item.lexical,
        reported_matches=previous.reported_matches if previous else (),
        reported_event=previous.reported_event if previous else "",
    )


def clip_utf8(value: str | None, max_bytes: int = MAX_LABEL_LENGTH) -> str | None:
    """Milvus VARCHAR limits count bytes; an over-long label must not fail the whole batch."""
    if value is None:
        return None
    return value.encode()[:max_bytes].decode(errors="ignore")
