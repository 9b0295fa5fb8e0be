"""encoders.listing: one definition of a listing for the worker, training and the decider."""

from __future__ import annotations

import pytest

from encoders.listing import (
    DECIDER_FIELDS,
    MAX_DESCRIPTION_CHARS,
    InvalidListing,
    decider_fields,
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
        (b'["a"]', "expected a JSON object, got list"),
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
