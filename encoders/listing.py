"""The listing: one definition for every layer.

Its fields and their validation (what a ``listing-created`` event carries and what the worker
accepts), the text the encoders read, the fields a decider compares, and the hash of what the
encoders read. The stream validates events with it, training validates labeled data with it, the
decider and the Milvus rows read the same fields.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, field_validator

DEFAULT_MAX_TITLE_CHARS = 1_000
MAX_LISTING_ID_BYTES = 256  # the Milvus primary key's VARCHAR limit
# Each pattern below is checked in Python with re.search, as JSON Schema validators do, so that the
# shipped schema rejects exactly what the worker dead-letters. ``(?!.*\n)`` because Python's ``$``
# also matches before a final newline.
NOT_BLANK_PATTERN = r"\S"
_YEAR = r"(?:19[7-9]\d|[2-9]\d{3})"  # 1970-9999, as for epoch numbers (a zone may reach hours before 1970)
_LEAP_YEAR = r"(?:19(?:7[26]|8[048]|9[26])|[2-9]\d(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|02-(?:0[1-9]|1\d|2[0-8]))"
)
_TIME = r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?)?"
ISO_DATE_PATTERN = rf"^(?!.*\n)(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29){_TIME}$"
# The last millisecond of 9999 (what an ISO 8601 date can say); far inside Milvus's INT64.
MAX_CREATED_AT_MS = 253_402_300_799_999
EPOCH_MILLISECONDS_FROM = 1e11  # larger numbers are epoch milliseconds already (10^11 s is the year 5138)
CREATED_AT_FORMATS = (
    "ISO 8601 date or date-time (YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|±HH:MM]], years 1970-9999), "
    f"or epoch seconds/milliseconds from 0 to {MAX_CREATED_AT_MS}"
)
CreatedAt = Annotated[
    str | int | float | None,
    WithJsonSchema({
        "anyOf": [
            {"type": "string", "pattern": ISO_DATE_PATTERN},
            {"type": "number", "minimum": 0, "maximum": MAX_CREATED_AT_MS},
            {"type": "null"},
        ],
    }),
]
# JSON Schema counts characters, the store UTF-8 bytes: ids with wider characters are held to
# fewer characters, so that the schema never accepts an id the worker refuses.
_LISTING_ID_BYTES_SCHEMA = {
    "allOf": [
        {"if": {"pattern": r"[^\x00-\x7f]"}, "then": {"maxLength": MAX_LISTING_ID_BYTES // 2}},
        {"if": {"pattern": r"[^\x00-\u07ff]"}, "then": {"maxLength": MAX_LISTING_ID_BYTES // 4}},
    ]
}
# What a decider compares; stored with each vector so that candidates carry them.
DECIDER_FIELDS = ("title", "brand", "model_number", "price", "currency", "category", "description", "image_phash")
MAX_DESCRIPTION_CHARS = 500


class Listing(BaseModel):
    """A listing-created event. Unknown fields are kept and travel on untouched."""

    model_config = ConfigDict(extra="allow", strict=True, title="listing-created")

    listing_id: str = Field(
        min_length=1,
        max_length=MAX_LISTING_ID_BYTES,
        description=f"at most {MAX_LISTING_ID_BYTES} bytes in UTF-8",
        json_schema_extra=_LISTING_ID_BYTES_SCHEMA,
    )
    title: str = Field(
        min_length=1,
        description=f"not blank; at most DEDUP_WORKER_MAX_TITLE_CHARS characters (default {DEFAULT_MAX_TITLE_CHARS})",
        json_schema_extra={"pattern": NOT_BLANK_PATTERN, "maxLength": DEFAULT_MAX_TITLE_CHARS},
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
    image_phash: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F]{16}$",
        max_length=16,  # Python's ``$`` also matches before a final newline
        description="64-bit perceptual hash of the main photo as 16 hex digits, as marketplaces store it",
    )
    model_number: str | None = None
    created_at: CreatedAt = Field(default=None, description=CREATED_AT_FORMATS)

    @field_validator("listing_id")
    @classmethod
    def _listing_id_fits_the_store(cls, listing_id: str) -> str:
        if len(listing_id.encode()) > MAX_LISTING_ID_BYTES:
            raise ValueError(f"listing_id is over {MAX_LISTING_ID_BYTES} bytes in UTF-8")
        return listing_id

    @field_validator("title")
    @classmethod
    def _title_not_blank(cls, title: str) -> str:
        if not re.search(NOT_BLANK_PATTERN, title):
            raise ValueError("title is blank")
        return title

    @field_validator("created_at")
    @classmethod
    def _created_at_fits_the_store(cls, value: str | int | float | None) -> str | int | float | None:
        """Milvus stores it as INT64 milliseconds: a value it cannot hold would fail the whole batch."""
        if isinstance(value, str) and not re.search(ISO_DATE_PATTERN, value):
            raise ValueError(f"{value[:40]!r} is not an ISO 8601 date: expected {CREATED_AT_FORMATS}")
        if isinstance(value, (int, float)) and not (math.isfinite(value) and 0 <= value <= MAX_CREATED_AT_MS):
            raise ValueError(f"{value!r} is out of range: expected {CREATED_AT_FORMATS}")
        return value

    def content_hash(self) -> str:
        """Hash of the fields the encoders read: equal content is never encoded twice."""
        content = orjson.dumps(
            [self.title, self.brand, self.model_number, self.image, self.images],
        )
        return hashlib.sha256(content).hexdigest()[:32]

    def created_at_ms(self) -> int | None:
        """``created_at`` as epoch milliseconds, or None when absent or unreadable."""
        return to_epoch_ms(self.created_at)


class InvalidListing(ValueError):
    """Bytes that are not a valid listing; the message says why in one line."""


def parse_listing_json(raw: bytes, *, subject: str = "listing") -> tuple[dict[str, Any], Listing]:
    """The raw JSON object and the validated Listing it holds, or InvalidListing naming the problem.

    The worker (events) and the labeled data sets (training) accept exactly the same listings.
    """
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidListing(f"not valid JSON: {json_problem(exc)}") from None
    if not isinstance(payload, dict):
        raise InvalidListing(f"expected a JSON object, got {_json_type(payload)}")
    try:
        return payload, Listing.model_validate(payload)
    except ValidationError as exc:
        raise InvalidListing(describe_validation_error(exc, subject=subject)) from None


def json_problem(exc: orjson.JSONDecodeError) -> str:
    """The decoder's message with the position in the record (``column 35``): a record is one line of its
    file or one Kafka message, so the decoder's "line 1" and character offset only confuse."""
    return f"{exc.msg} at column {exc.colno}"


def describe_validation_error(exc: ValidationError, *, subject: str = "listing") -> str:
    """A validation failure as one line, ``field: problem; field: problem`` (``subject`` when no field).

    A wrong type names the type given: ``title: Input should be a valid string, got int``."""
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or subject
        given = f", got {_json_type(error['input'])}" if error["type"].endswith("_type") else ""
        problems.append(f"{field}: {error['msg']}{given}")
    return "; ".join(problems)


def _json_type(value: Any) -> str:
    """The JSON name of a value's type, as the sender wrote it."""
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def listing_text(listing: Mapping[str, Any]) -> str:
    """What the text encoder reads: the title, with the brand in front when the title lacks it."""
    title = readable(str(listing.get("title") or "")).strip()
    brand = readable(str(listing.get("brand") or "")).strip()
    if brand and brand.lower() not in title.lower():
        return f"{brand} {title}"
    return title


_ESCAPED_UTF8 = re.compile(r"(?:\\x[0-9a-fA-F]{2})+")
_BYTES_LITERAL = re.compile(r"""^b(['"])(.*)\1$""", re.DOTALL)


def readable(text: str) -> str:
    """Text as some marketplace exports carry it, made readable again.

    A Python bytes literal (``b"Nutrisari 10's"``) loses its wrapper, and UTF-8 written out as ``\\xNN``
    escapes (``\\xe2\\x9d\\xa4`` for a heart) becomes the characters it encodes; bytes that are
    not UTF-8 are dropped. Other text is returned unchanged.
    """
    wrapped = _BYTES_LITERAL.match(text)
    if wrapped:
        text = wrapped.group(2)
    return _ESCAPED_UTF8.sub(_decoded, text)


def _decoded(escapes: re.Match[str]) -> str:
    raw = bytes.fromhex(escapes.group(0).replace("\\x", ""))
    return raw.decode("utf-8", errors="ignore")


def decider_fields(listing: Mapping[str, Any]) -> dict[str, Any]:
    """The raw fields a decider may compare, the same in training and in the stream."""
    fields = {name: listing[name] for name in DECIDER_FIELDS if listing.get(name) is not None}
    if isinstance(fields.get("description"), str):
        fields["description"] = fields["description"][:MAX_DESCRIPTION_CHARS]
    return fields


def to_epoch_ms(value: str | int | float | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value if value > EPOCH_MILLISECONDS_FROM else value * 1000)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)
