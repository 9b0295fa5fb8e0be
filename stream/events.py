"""Event schemas: listing-created in, duplicate-found and dead letters out.

The pydantic models are the single source of truth: the JSON Schema files shipped in
``stream/schemas`` are generated from them (``python -m stream.events``) and a test keeps
them in sync.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from encoders.listing import DEFAULT_MAX_TITLE_CHARS, InvalidListing, Listing, parse_listing_json

SCHEMA_DIR = Path(__file__).parent / "schemas"
DEFAULT_MAX_EVENT_BYTES = 256 * 1024
# The listing-created payload is the listing itself: one definition (encoders.listing) for every layer.
ListingCreated = Listing


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

    event_id: str = Field(description="sha256 of listing_id, content hash and model version")
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


def parse_listing(
    value: bytes | None,
    *,
    max_title_chars: int = DEFAULT_MAX_TITLE_CHARS,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> ListingCreated:
    """Decode and validate one listing-created value, or raise InvalidEvent with a readable reason."""
    if value is None:
        raise InvalidEvent("empty message value (tombstone)")
    if len(value) > max_event_bytes:
        raise InvalidEvent(f"event is {len(value)} bytes, over the {max_event_bytes}-byte limit")
    try:
        _payload, listing = parse_listing_json(value, subject="event")
    except InvalidListing as exc:
        raise InvalidEvent(str(exc)) from None
    if len(listing.title) > max_title_chars:
        raise InvalidEvent(f"title is {len(listing.title)} characters, over the {max_title_chars} limit")
    return listing


def duplicate_event_id(listing_id: str, content_hash: str, model_version: str) -> str:
    """Deterministic: reprocessing the same listing with the same model gives the same id."""
    digest = hashlib.sha256(f"{listing_id}\x1f{content_hash}\x1f{model_version}".encode())
    return digest.hexdigest()


def encode_event(event: BaseModel) -> bytes:
    return orjson.dumps(event.model_dump(mode="json", exclude_none=False))


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_schemas() -> dict[str, dict[str, Any]]:
    return {
        "listing-created.schema.json": ListingCreated.model_json_schema(),
        "duplicate-found.schema.json": DuplicateFound.model_json_schema(),
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
