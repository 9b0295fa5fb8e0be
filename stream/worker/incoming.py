"""A valid listing of a micro-batch, what is derived from it once, and the row it becomes in Milvus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from decider.features.codes import listing_codes
from encoders.lexical import lexical_document
from encoders.listing import decider_fields, listing_text
from infra.milvus.records import ListingRecord
from infra.milvus.schema import MAX_LABEL_LENGTH
from stream.events import ListingCreated, SourcePosition


@dataclass(frozen=True)
class Incoming:
    listing: ListingCreated
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


def latest_per_listing(batch: Sequence[Incoming]) -> list[Incoming]:
    """A listing republished within one batch counts once, with its newest content."""
    latest: dict[str, Incoming] = {}
    for item in batch:
        latest[item.listing.listing_id] = item
    return list(latest.values())


def listing_record(
    item: Incoming, text_vector: np.ndarray, photo_vector: np.ndarray | None, first_seen_ms: int
) -> ListingRecord:
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
    )


def clip_utf8(value: str | None, max_bytes: int = MAX_LABEL_LENGTH) -> str | None:
    """Milvus VARCHAR limits count bytes; an over-long label must not fail the whole batch."""
    if value is None:
        return None
    return value.encode()[:max_bytes].decode(errors="ignore")
