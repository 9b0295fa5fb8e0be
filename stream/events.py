"""Event schemas: listing-created, -updated and -deleted in; duplicate-found, duplicate-retracted and dead letters out.

The pydantic models are the single source of truth: the JSON Schema files shipped in
``stream/schemas`` are generated from them (``python -m stream.events``) and a test keeps
them in sync.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from encoders.listing import (
    DEFAULT_MAX_TITLE_CHARS,
    MAX_LISTING_ID_BYTES,
    CreatedAt,
    Listing,
    describe_validation_error,
    json_problem,
)

SCHEMA_DIR = Path(__file__).parent / "schemas"
DEFAULT_MAX_EVENT_BYTES = 256 * 1024
EVENT_TYPE_HEADER = "dedup.event-type"  # on every event of the duplicates topic: duplicate-found or -retracted
OPS = ("created", "updated", "deleted")


# The three events of the listings topic, told apart by ``op`` (absent = created). The created and updated
# payloads are the listing itself: one definition (encoders.listing) for every layer.
class ListingCreated(Listing):
    """A listing-created event. Unknown fields are kept and travel on untouched."""

    model_config = ConfigDict(title="listing-created")

    op: Literal["created"] = Field(default="created", description="absent or 'created'")


class ListingUpdated(Listing):
    """A listing-updated event: the listing's new content, all of it, replacing the stored listing (its first
    stored time kept). Unknown fields are kept."""

    model_config = ConfigDict(title="listing-updated")

    op: Literal["updated"]


class ListingDeleted(BaseModel):
    """The listing is removed: never matched again, and the duplicate-found events naming it are retracted."""

    model_config = ConfigDict(extra="allow", strict=True, title="listing-deleted")

    op: Literal["deleted"]
    listing_id: str = Field(
        min_length=1,
        max_length=MAX_LISTING_ID_BYTES,
        description=f"at most {MAX_LISTING_ID_BYTES} bytes in UTF-8",
        json_schema_extra=Listing.model_fields["listing_id"].json_schema_extra,
    )
    deleted_at: CreatedAt = Field(default=None, description="informational; same formats as created_at")

    # The same checks as the listing's own, so that the three schemas and the worker agree.
    _listing_id_fits = field_validator("listing_id")(Listing._listing_id_fits_the_store.__func__)  # type: ignore[attr-defined]
    _deleted_at_fits = field_validator("deleted_at")(Listing._created_at_fits_the_store.__func__)  # type: ignore[attr-defined]


ListingEvent = ListingCreated | ListingUpdated | ListingDeleted
_MODELS: dict[str, type[ListingCreated] | type[ListingUpdated] | type[ListingDeleted]] = dict(
    zip(OPS, (ListingCreated, ListingUpdated, ListingDeleted), strict=True)
)


class InvalidEvent(ValueError):
    """An event that can never be processed; it goes to the dead-letter topic with this reason."""


class Match(BaseModel):
    listing_id: str
    score: float = Field(description="decider probability that both listings are the same product")
    text_similarity: float
    image_similarity: float | None = None
    reason: str | None = Field(default=None, description="what drove the decision, e.g. 'model numbers agree'")


class DeciderRef(BaseModel):
    name: str
    version: str


class SourcePosition(BaseModel):
    topic: str
    partition: int
    offset: int


class DuplicateFound(BaseModel):
    """A duplicate-found event: ``listing_id`` duplicates the earlier listings in ``matches``."""

    model_config = ConfigDict(title="duplicate-found")

    event_type: Literal["duplicate-found"] = "duplicate-found"
    event_id: str = Field(
        description="sha256 of listing_id, content hash and model version (and, after a listing-updated, of the"
        " fields the decider reads)"
    )
    listing_id: str
    matches: list[Match] = Field(min_length=1, description="earlier listings, best first")
    decider: DeciderRef
    model_version: str
    detected_at: str
    source: SourcePosition
    photo_error: str | None = Field(
        default=None,
        description="why the listing's photo could not be used (it was matched on text alone), e.g."
        " 'timeout: …'; null when it had none or it loaded",
    )


class DuplicateRetracted(BaseModel):
    """Withdraws matches of an earlier duplicate-found event: keyed, like it, by its ``listing_id``."""

    model_config = ConfigDict(title="duplicate-retracted")

    event_type: Literal["duplicate-retracted"] = "duplicate-retracted"
    event_id: str = Field(description="sha256 of the retracted event id, the listing, the retracted matches and reason")
    retracts_event_id: str = Field(description="the duplicate-found event whose matches are withdrawn")
    listing_id: str = Field(description="the listing of that event (and the Kafka key)")
    retracted_matches: list[str] = Field(min_length=1, description="the matches withdrawn (listing ids)")
    reason: Literal["updated", "deleted"] = Field(
        description="updated: the listing changed and no longer matches them; deleted: it or they were deleted"
    )
    detected_at: str
    source: SourcePosition = Field(description="the listing-updated or listing-deleted event behind it")


# Upper bounds of what librdkafka adds to key + value + headers when it checks message.max.bytes
# (measured: 36 bytes per record, 3 per header), with room for the record batch around it.
RECORD_OVERHEAD_BYTES = 1_024
HEADER_OVERHEAD_BYTES = 12
MAX_TRUNCATED_KEY_BYTES = 1_024


@dataclass(frozen=True)
class DeadLetter:
    """The original bytes of an event that failed, and why.

    A letter too large for the producer carries a prefix of the value (and of the key) instead, with
    the original value's size and SHA-256 in its headers.
    """

    key: bytes | None
    value: bytes | None
    reason: str
    source: SourcePosition
    original_size: int | None = None  # set only when truncated
    original_sha256: str | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("dedup.error", self.reason.encode()),
            ("dedup.source.topic", self.source.topic.encode()),
            ("dedup.source.partition", str(self.source.partition).encode()),
            ("dedup.source.offset", str(self.source.offset).encode()),
        ]
        if self.original_size is not None:
            headers += [
                ("dedup.truncated", b"true"),
                ("dedup.original.size", str(self.original_size).encode()),
                ("dedup.original.sha256", (self.original_sha256 or "").encode()),
            ]
        return headers

    def size_bound(self) -> int:
        """At least the size librdkafka checks against ``message.max.bytes``."""
        headers = sum(len(name) + len(value) + HEADER_OVERHEAD_BYTES for name, value in self.headers())
        return RECORD_OVERHEAD_BYTES + len(self.key or b"") + len(self.value or b"") + headers

    def fitted(self, max_bytes: int) -> DeadLetter:
        """This letter if it fits in ``max_bytes``, else one with the longest value prefix that does."""
        if self.size_bound() <= max_bytes:
            return self
        return self.truncated(max_bytes)

    def truncated(self, max_bytes: int = 0) -> DeadLetter:
        """The letter cut to fit ``max_bytes``; 0 keeps no value at all (for a broker refusing any more)."""
        value = self.value or b""
        key = None if self.key is None else self.key[:MAX_TRUNCATED_KEY_BYTES]
        if self.original_size is None:
            cut = replace(self, key=key, value=b"", original_size=len(value), original_sha256=_sha256(value))
        else:  # already cut once: the headers keep describing the original
            cut = replace(self, key=key, value=b"")
        return replace(cut, value=value[: max(0, max_bytes - cut.size_bound())])


def _sha256(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def parse_listing_event(
    value: bytes | None,
    *,
    max_title_chars: int = DEFAULT_MAX_TITLE_CHARS,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> ListingEvent:
    """Decode and validate one value of the listings topic, or raise InvalidEvent with a readable reason."""
    if value is None:
        raise InvalidEvent("empty message value (tombstone)")
    if len(value) > max_event_bytes:
        raise InvalidEvent(f"event is {len(value)} bytes, over the {max_event_bytes}-byte limit")
    try:
        payload = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"not valid JSON: {json_problem(exc)}") from None
    if not isinstance(payload, dict):
        raise InvalidEvent(f"expected a JSON object, got {type(payload).__name__}")
    op = payload.get("op", "created")
    model = _MODELS.get(op) if isinstance(op, str) else None
    if model is None:
        shown = orjson.dumps(op).decode()[:60]
        raise InvalidEvent(f"op: {shown} is not an operation: expected absent, \"created\", \"updated\" or \"deleted\"")
    try:
        event = model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc, subject="event")) from None
    if not isinstance(event, ListingDeleted) and len(event.title) > max_title_chars:
        raise InvalidEvent(f"title is {len(event.title)} characters, over the {max_title_chars} limit")
    return event


def parse_listing(
    value: bytes | None,
    *,
    max_title_chars: int = DEFAULT_MAX_TITLE_CHARS,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> ListingCreated | ListingUpdated:
    """A listing-created or listing-updated value (a listing with content); anything else raises InvalidEvent."""
    event = parse_listing_event(value, max_title_chars=max_title_chars, max_event_bytes=max_event_bytes)
    if isinstance(event, ListingDeleted):
        raise InvalidEvent("op: a listing-deleted event carries no listing")
    return event


def duplicate_event_id(listing_id: str, content_hash: str, model_version: str, revision: str = "") -> str:
    """Deterministic: reprocessing the same listing with the same model gives the same id.

    ``revision`` (after a listing-updated: a hash of the fields the decider reads) gives an update that
    changes only, say, the price a new id, since its matches may differ."""
    parts = [listing_id, content_hash, model_version, *([revision] if revision else [])]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def retraction_event_id(retracts_event_id: str, listing_id: str, matches: list[str], reason: str) -> str:
    """Deterministic: a batch reprocessed after a crash retracts with the same ids."""
    parts = [retracts_event_id, listing_id, "\x1e".join(sorted(matches)), reason]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def encode_event(event: BaseModel) -> bytes:
    return orjson.dumps(event.model_dump(mode="json", exclude_none=False))


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_schemas() -> dict[str, dict[str, Any]]:
    from stream.clusters.events import ClusterUpdated  # it builds on this module's events: imported here

    return {
        "listing-created.schema.json": ListingCreated.model_json_schema(),
        "listing-updated.schema.json": ListingUpdated.model_json_schema(),
        "listing-deleted.schema.json": ListingDeleted.model_json_schema(),
        "duplicate-found.schema.json": DuplicateFound.model_json_schema(),
        "duplicate-retracted.schema.json": DuplicateRetracted.model_json_schema(),
        "cluster-updated.schema.json": ClusterUpdated.model_json_schema(),
    }


def write_json_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = directory / name
        path.write_bytes(orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_json_schemas():
        print(written_path)
