"""Event schemas: listing-created in, duplicate-found and dead letters out.

The pydantic models are the single source of truth: the JSON Schema files shipped in
``stream/schemas`` are generated from them (``python -m stream.events``) and a test keeps
them in sync.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SCHEMA_DIR = Path(__file__).parent / "schemas"
DEFAULT_MAX_TITLE_CHARS = 1_000
DEFAULT_MAX_EVENT_BYTES = 256 * 1024
MAX_LISTING_ID_BYTES = 256  # the Milvus primary key's VARCHAR limit


class InvalidEvent(ValueError):
    """An event that can never be processed; it goes to the dead-letter topic with this reason."""


class ListingCreated(BaseModel):
    """A listing-created event. Unknown fields are kept and travel on untouched."""

    model_config = ConfigDict(extra="allow", strict=True, title="listing-created")

    listing_id: str = Field(min_length=1, max_length=256)
    title: str = Field(
        min_length=1,
        description=f"at most DEDUP_WORKER_MAX_TITLE_CHARS characters (default {DEFAULT_MAX_TITLE_CHARS})",
    )
    event_id: str | None = None
    description: str | None = None
    brand: str | None = None
    category: str | None = None
    price: float | None = Field(default=None, ge=0)
    currency: str | None = None
    seller_id: str | None = None
    image: str | None = Field(default=None, description="URI or local path of the main image")
    images: list[str] | None = None
    model_number: str | None = None
    created_at: str | int | float | None = Field(
        default=None, description="ISO 8601 string or epoch seconds/milliseconds"
    )

    @field_validator("listing_id")
    @classmethod
    def _listing_id_fits_the_store(cls, listing_id: str) -> str:
        if len(listing_id.encode()) > MAX_LISTING_ID_BYTES:
            raise ValueError(f"listing_id is over {MAX_LISTING_ID_BYTES} bytes in UTF-8")
        return listing_id

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, title: str) -> str:
        if not title.strip():
            raise ValueError("title is blank")
        return title

    def content_hash(self) -> str:
        """Hash of the fields the encoders read: equal content is never encoded twice."""
        content = orjson.dumps(
            [self.title, self.brand, self.model_number, self.image, self.images],
        )
        return hashlib.sha256(content).hexdigest()[:32]

    def created_at_ms(self) -> int | None:
        """``created_at`` as epoch milliseconds, or None when absent or unreadable."""
        return _to_epoch_ms(self.created_at)


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


@dataclass(frozen=True)
class DeadLetter:
    """The original bytes of an event that failed, and why."""

    key: bytes | None
    value: bytes | None
    reason: str
    source: SourcePosition

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("dedup.error", self.reason.encode()),
            ("dedup.source.topic", self.source.topic.encode()),
            ("dedup.source.partition", str(self.source.partition).encode()),
            ("dedup.source.offset", str(self.source.offset).encode()),
        ]


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
        payload = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidEvent(f"expected a JSON object, got {type(payload).__name__}")
    try:
        listing = ListingCreated.model_validate(payload)
    except ValidationError as exc:
        raise InvalidEvent(_describe_validation_error(exc)) from None
    if len(listing.title) > max_title_chars:
        raise InvalidEvent(f"title is {len(listing.title)} characters, over the {max_title_chars} limit")
    return listing


def _describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "event"
        parts.append(f"{field}: {error['msg']}")
    return "; ".join(parts)


def duplicate_event_id(listing_id: str, content_hash: str, model_version: str) -> str:
    """Deterministic: reprocessing the same listing with the same model gives the same id."""
    digest = hashlib.sha256(f"{listing_id}\x1f{content_hash}\x1f{model_version}".encode())
    return digest.hexdigest()


def encode_event(event: BaseModel) -> bytes:
    return orjson.dumps(event.model_dump(mode="json", exclude_none=False))


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_epoch_ms(value: str | int | float | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        # Heuristic: values past 10^11 are already milliseconds (10^11 s is the year 5138).
        return int(value if value > 1e11 else value * 1000)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


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
