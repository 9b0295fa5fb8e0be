"""The listing-created, -updated and -deleted JSON Schemas, the worker and ``dedup publish`` give the same verdict
on every record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from confluent_kafka import Message

from stream.events import SCHEMA_DIR
from stream.publish import publish_file
from stream.settings import Settings
from stream.worker.processor import BatchProcessor

GOOD = {"listing_id": "a-1", "title": "Sony Bravia 55 inch 4K TV"}
# (what differs from GOOD, why); None deletes the field.
RECORDS: list[tuple[dict[str, Any], str]] = [
    ({}, "the minimal record"),
    ({"title": " "}, "blank title"),
    ({"title": "\t\u3000\n"}, "title of Unicode whitespace only"),
    ({"title": ""}, "empty title"),
    ({"title": "x" * 1_000}, "title at the limit"),
    ({"title": "x" * 1_001}, "title over the limit"),
    ({"title": "é" * 1_001}, "title over the limit in characters, not bytes"),
    ({"title": None}, "null title"),
    ({"title": 12}, "numeric title"),
    ({"listing_id": None}, "no listing_id"),
    ({"listing_id": ""}, "empty listing_id"),
    ({"listing_id": "i" * 256}, "listing_id of 256 ASCII characters"),
    ({"listing_id": "i" * 257}, "listing_id of 257 characters"),
    ({"listing_id": "é" * 128}, "listing_id of 256 bytes in two-byte characters"),
    ({"listing_id": "é" * 129}, "listing_id of 258 bytes in two-byte characters"),
    ({"listing_id": "€" * 64}, "listing_id of 192 bytes in three-byte characters"),
    ({"listing_id": "€" * 86}, "listing_id of 258 bytes in three-byte characters"),
    ({"listing_id": "o'brien-1\\"}, "quotes and backslashes"),
    ({"created_at": 1e30}, "created_at beyond INT64 milliseconds"),
    ({"created_at": 2**63}, "created_at of 2^63"),
    ({"created_at": -1}, "negative created_at"),
    ({"created_at": 0}, "created_at at the epoch"),
    ({"created_at": 1_700_000_000}, "created_at in epoch seconds"),
    ({"created_at": 1_700_000_000_123.5}, "created_at in fractional epoch milliseconds"),
    ({"created_at": 253_402_300_799_999}, "the last millisecond of 9999"),
    ({"created_at": 253_402_300_800_000}, "the first millisecond of 10000"),
    ({"created_at": "not a date"}, "created_at not a date"),
    ({"created_at": "2026-11-30T10:00:00Z"}, "ISO 8601 in UTC"),
    ({"created_at": "2026-11-30T10:00:00.123+05:30"}, "ISO 8601 with an offset"),
    ({"created_at": "2026-11-30"}, "a date alone"),
    ({"created_at": "2024-02-29"}, "a leap day"),
    ({"created_at": "2026-02-29"}, "not a leap year"),
    ({"created_at": "2026-11-30T10:00:00Z\n"}, "a trailing newline"),
    ({"created_at": "1969-12-31"}, "before the epoch"),
    ({"created_at": True}, "boolean created_at"),
    ({"created_at": None}, "null created_at"),
    ({"image_phash": "94974f93c2e1a0b7"}, "image_phash of 16 hex digits"),
    ({"image_phash": "94974f93"}, "short image_phash"),
    ({"image_phash": "94974f93c2e1a0bz"}, "image_phash not hex"),
    ({"image_phash": "94974f93c2e1a0b7\n"}, "image_phash with a trailing newline"),
    ({"image_phash": 1234}, "numeric image_phash"),
    ({"price": -0.01}, "negative price"),
    ({"price": "9.99"}, "price as a string"),
    ({"price": 0}, "free"),
    ({"images": "one.jpg"}, "images not a list"),
    ({"images": ["one.jpg", 2]}, "images with a number"),
    ({"colour": {"nested": [1, {"deep": None}]}}, "unknown fields are kept"),
    ({"op": "created"}, "op created"),
    ({"op": "updated"}, "an update"),
    ({"op": "updated", "title": None}, "an update without a title"),
    ({"op": "updated", "title": " "}, "an update with a blank title"),
    ({"op": "updated", "title": "x" * 1_001}, "an update with a title over the limit"),
    ({"op": "updated", "created_at": 1e30}, "an update with created_at beyond INT64"),
    ({"op": "updated", "listing_id": "é" * 129}, "an update with a listing_id over 256 bytes"),
    ({"op": "deleted", "title": None}, "a delete"),
    ({"op": "deleted"}, "a delete carrying the listing's fields"),
    ({"op": "deleted", "title": None, "listing_id": None}, "a delete without a listing_id"),
    ({"op": "deleted", "title": None, "listing_id": ""}, "a delete with an empty listing_id"),
    ({"op": "deleted", "title": None, "listing_id": "é" * 129}, "a delete with a listing_id over 256 bytes"),
    ({"op": "deleted", "title": None, "listing_id": 7}, "a delete with a numeric listing_id"),
    ({"op": "deleted", "title": None, "deleted_at": "2026-11-30T10:00:00Z"}, "a delete with deleted_at"),
    ({"op": "deleted", "title": None, "deleted_at": "not a date"}, "a delete with deleted_at not a date"),
    ({"op": "deleted", "title": None, "deleted_at": 1e30}, "a delete with deleted_at beyond INT64"),
    ({"op": "bogus"}, "an unknown op"),
    ({"op": "DELETED", "title": None}, "an op in capitals"),
    ({"op": None}, "a null op"),
    ({"op": 2}, "a numeric op"),
]
OP_SCHEMAS = ("listing-created", "listing-updated", "listing-deleted")


def record(change: dict[str, Any]) -> dict[str, Any]:
    merged = {**GOOD, **change}
    return {name: value for name, value in merged.items() if value is not None or name not in ("title", "listing_id")}


def schemas_accepting(value: dict[str, Any]) -> list[str]:
    found = []
    for name in OP_SCHEMAS:
        schema = orjson.loads((SCHEMA_DIR / f"{name}.schema.json").read_bytes())
        if jsonschema.Draft202012Validator(schema).is_valid(value):
            found.append(name)
    return found


def schema_accepts(value: dict[str, Any]) -> bool:
    """One of the listings topic's schemas accepts it (``op`` tells them apart: never two)."""
    accepting = schemas_accepting(value)
    assert len(accepting) <= 1, accepting
    return bool(accepting)


def worker_accepts(raw: bytes) -> bool:
    processor = BatchProcessor(None, None, duplicates_topic="d", dlq_topic="q", max_title_chars=1_000)  # type: ignore[arg-type]
    incoming, letters = processor.parse([Message(topic="t", partition=0, offset=0, value=raw, timestamp=(1, 1))])
    return bool(incoming) and not letters


@pytest.mark.parametrize(("change", "why"), RECORDS, ids=[why for _, why in RECORDS])
def test_the_schema_rejects_exactly_what_the_worker_dead_letters(change: dict[str, Any], why: str) -> None:
    value = record(change)
    assert schema_accepts(value) == worker_accepts(orjson.dumps(value)), why


def test_dedup_publish_refuses_exactly_what_the_worker_dead_letters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [orjson.dumps(record(change)) for change, _ in RECORDS]
    source = tmp_path / "listings.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    sent: list[tuple[str, bytes]] = []
    monkeypatch.setattr("stream.publish.publish_values", lambda _settings, values: sent.extend(values))

    report = publish_file(Settings(), source)

    refused = {number - 1 for number, _reason in report.invalid}
    dead_lettered = {index for index, line in enumerate(lines) if not worker_accepts(line)}
    assert refused == dead_lettered and 0 < len(refused) < len(lines)
    assert [value for _key, value in sent] == [line for index, line in enumerate(lines) if index not in refused]


def test_the_schema_is_stricter_than_the_worker_only_for_long_ids_of_wide_characters() -> None:
    """JSON Schema counts characters, not UTF-8 bytes: such ids are held to 64 or 128 characters."""
    value = record({"listing_id": "€" * 70})  # 210 bytes: the worker stores it
    assert worker_accepts(orjson.dumps(value)) and not schema_accepts(value)
