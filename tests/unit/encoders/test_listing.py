"""encoders.listing: one definition of a listing for the worker, training and the decider."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import orjson
import pytest
from pydantic import ValidationError

from encoders.listing import (
    DECIDER_FIELDS,
    ISO_DATE_PATTERN,
    MAX_CREATED_AT_MS,
    MAX_DESCRIPTION_CHARS,
    InvalidListing,
    Listing,
    decider_fields,
    describe_validation_error,
    listing_text,
    parse_listing_json,
    readable,
    to_epoch_ms,
)


def test_the_encoder_reads_the_title_with_the_brand_in_front_only_when_missing() -> None:
    assert listing_text({"title": " Galaxy S23 128GB ", "brand": "Samsung"}) == "Samsung Galaxy S23 128GB"
    assert listing_text({"title": "SAMSUNG Galaxy S23", "brand": "Samsung"}) == "SAMSUNG Galaxy S23"
    assert listing_text({"title": "Galaxy S23", "brand": None}) == "Galaxy S23"


def test_the_decider_sees_its_fields_only_with_the_description_clipped() -> None:
    listing = {"listing_id": "a", "title": "t", "seller_id": "s", "price": 0.0, "description": "x" * 2_000}
    fields = decider_fields(listing)
    assert set(fields) == {"title", "price", "description"} and set(fields) <= set(DECIDER_FIELDS)
    assert fields["price"] == 0.0  # a zero price is a price, not a missing one
    assert len(fields["description"]) == MAX_DESCRIPTION_CHARS


def test_parsing_keeps_the_raw_object_and_validates_it() -> None:
    raw, listing = parse_listing_json(b'{"listing_id": "a-1", "title": "Sony TV", "colour": "black"}')
    assert raw == {"listing_id": "a-1", "title": "Sony TV", "colour": "black"}
    assert (listing.listing_id, listing.title, listing.model_extra) == ("a-1", "Sony TV", {"colour": "black"})


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{", "not valid JSON"),
        (b'["a"]', "expected a JSON object, got array"),
        (b"null", "expected a JSON object, got null"),
        (b'{"title": "x"}', "listing_id: Field required"),
        (b'{"listing_id": "a", "title": "   "}', "title: Value error, title is blank"),
        (b'{"listing_id": "a", "title": "x", "price": -1}', "price: Input should be greater than or equal to 0"),
        ('{"listing_id": "' + "é" * 200 + '", "title": "x"}', "listing_id: Value error, listing_id is over 256 bytes"),
        (b'{"listing_id": "a", "title": "x", "image_phash": "94974f93"}', "image_phash: String should match pattern"),
    ],
)
def test_invalid_listings_say_why_in_one_line(raw: bytes | str, reason: str) -> None:
    with pytest.raises(InvalidListing) as caught:
        parse_listing_json(raw.encode() if isinstance(raw, str) else raw)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_the_same_content_hashes_the_same_and_other_content_differently() -> None:
    _, first = parse_listing_json(b'{"listing_id": "a", "title": "Sony TV", "price": 10}')
    _, repriced = parse_listing_json(b'{"listing_id": "b", "title": "Sony TV", "price": 99}')
    _, retitled = parse_listing_json(b'{"listing_id": "a", "title": "Sony TV 55"}')
    assert first.content_hash() == repriced.content_hash()  # price is not what the encoders read
    assert first.content_hash() != retitled.content_hash()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-30T10:00:00Z", 1_796_032_800_000),
        ("2026-11-30T10:00:00", 1_796_032_800_000),  # no zone: UTC
        (1_700_000_000, 1_700_000_000_000),
        (1_700_000_000_123, 1_700_000_000_123),
        ("not a date", None),
        (None, None),
    ],
)
def test_created_at_reads_as_epoch_milliseconds(value: object, expected: int | None) -> None:
    assert to_epoch_ms(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("title", "read"),
    [
        (r"\xe2\x9d\xa4\xef\xb8\x8fGTB\xe2\x9d\xa4\xef\xb8\x8f Kaos Kaki", "❤️GTB❤️ Kaos Kaki"),
        (r"Powder Foundation 14. Cr\xc3\xa8me 13 g", "Powder Foundation 14. Crème 13 g"),
        ('b"JOHNSON\'S Baby Powder 300 gr"', "JOHNSON'S Baby Powder 300 gr"),
        (r"\xff\xfe not UTF-8", " not UTF-8"),
        (r"path C:\x and b'unclosed", r"path C:\x and b'unclosed"),
        ("Sony TV 55", "Sony TV 55"),
    ],
)
def test_marketplace_exports_escaped_bytes_read_as_text(title: str, read: str) -> None:
    assert readable(title) == read
    assert listing_text({"title": title}) == read.strip()


@pytest.mark.parametrize(
    ("created_at", "reason"),
    [
        (1e30, "out of range"),  # beyond Milvus INT64 milliseconds
        (2**63, "out of range"),
        (253_402_300_800_000, "out of range"),  # one millisecond past 9999-12-31T23:59:59.999Z
        (-1, "out of range"),
        (-0.5, "out of range"),
        (float("inf"), "out of range"),
        (float("nan"), "out of range"),
        ("not a date", "not an ISO 8601 date"),
        ("", "not an ISO 8601 date"),
        ("2026-02-29", "not an ISO 8601 date"),  # not a leap year
        ("2026-04-31T10:00:00Z", "not an ISO 8601 date"),
        ("2026-11-30T24:00:00Z", "not an ISO 8601 date"),
        ("1969-12-31T23:59:59Z", "not an ISO 8601 date"),  # before the epoch
        ("2026-11-30T10:00:00Z\n", "not an ISO 8601 date"),
    ],
)
def test_created_at_out_of_range_or_not_a_date_is_invalid(created_at: object, reason: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Listing.model_validate({"listing_id": "a", "title": "x", "created_at": created_at})
    described = describe_validation_error(caught.value)
    assert described.startswith("created_at: ") and reason in described and "\n" not in described


@pytest.mark.parametrize(
    ("created_at", "ms"),
    [
        (0, 0),
        (1_700_000_000.5, 1_700_000_000_500),
        (MAX_CREATED_AT_MS, MAX_CREATED_AT_MS),
        ("2024-02-29", 1_709_164_800_000),
        ("2000-02-29T00:00:00.123456+01:00", 951_778_800_123),
        ("2026-11-30 10:00", 1_796_032_800_000),
        ("9999-12-31T23:59:59.999Z", MAX_CREATED_AT_MS),
    ],
)
def test_created_at_in_range_reads_as_epoch_milliseconds(created_at: object, ms: int) -> None:
    _, listing = parse_listing_json(orjson.dumps({"listing_id": "a", "title": "x", "created_at": created_at}))
    assert listing.created_at_ms() == ms


def test_the_date_pattern_knows_the_calendar() -> None:
    """Leap years and month lengths: what the pattern (and so the JSON Schema) accepts is a real date."""
    pattern = re.compile(ISO_DATE_PATTERN)
    for year in range(1970, 10_000):
        assert bool(pattern.search(f"{year:04d}-02-29")) == calendar.isleap(year), year
    day = date(1999, 12, 1)
    while day < date(2001, 3, 2):  # a month either side of a 400-year leap day
        assert pattern.search(day.isoformat()), day
        day += timedelta(days=1)
    for month, days in [(1, 31), (4, 30), (6, 30), (9, 30), (11, 30), (12, 31)]:
        assert pattern.search(f"2026-{month:02d}-{days:02d}") and not pattern.search(f"2026-{month:02d}-{days + 1:02d}")
