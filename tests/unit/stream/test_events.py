import json

import jsonschema
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stream.events import (
    SCHEMA_DIR,
    DeadLetter,
    InvalidEvent,
    SourcePosition,
    duplicate_event_id,
    json_schemas,
    parse_listing,
)
from tests.paths import SHARED_DATA


def test_shipped_schema_files_match_the_models() -> None:
    for name, schema in json_schemas().items():
        assert orjson.loads((SCHEMA_DIR / name).read_bytes()) == schema, f"regenerate with `make schemas`: {name}"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")
def test_every_shared_listing_is_a_valid_event_and_matches_the_json_schema() -> None:
    schema = json_schemas()["listing-created.schema.json"]
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted(SHARED_DATA.glob("*/listings.jsonl"))
    assert files
    for path in files:
        for line in path.read_bytes().splitlines():
            listing = parse_listing(line)
            assert listing.title
            validator.validate(orjson.loads(line))


def test_unknown_fields_are_kept() -> None:
    listing = parse_listing(b'{"listing_id": "a1", "title": "Kettle", "colour": "red", "stock": 3}')
    assert listing.model_dump()["colour"] == "red"
    assert listing.model_dump()["stock"] == 3


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b'["a"]', "expected a JSON object"),
        (b'{"title": "x"}', "listing_id: Field required"),
        (b'{"listing_id": "a"}', "title: Field required"),
        (b'{"listing_id": "a", "title": 42}', "title: Input should be a valid string"),
        (b'{"listing_id": "a", "title": "   "}', "title is blank"),
        (b'{"listing_id": "a", "title": "x", "price": "9.99"}', "price: Input should be a valid number"),
        (b'{"listing_id": "a", "title": "x", "images": "one.jpg"}', "images: Input should be a valid list"),
        (None, "tombstone"),
        (("{\"listing_id\": \"%s\", \"title\": \"x\"}" % ("é" * 200)).encode(), "over 256 bytes"),
    ],
)
def test_malformed_events_are_rejected_with_a_reason(value: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        parse_listing(value)


def test_oversized_title_and_event_limits_are_configurable() -> None:
    long_title = orjson.dumps({"listing_id": "a", "title": "x" * 50})
    with pytest.raises(InvalidEvent, match="over the 20 limit"):
        parse_listing(long_title, max_title_chars=20)
    assert parse_listing(long_title, max_title_chars=50).title == "x" * 50
    with pytest.raises(InvalidEvent, match="byte limit"):
        parse_listing(long_title, max_event_bytes=10)


def test_integer_prices_and_epoch_created_at_are_accepted() -> None:
    listing = parse_listing(b'{"listing_id": "a", "title": "x", "price": 10, "created_at": 1700000000}')
    assert listing.price == 10
    assert listing.created_at_ms() == 1_700_000_000_000
    iso = parse_listing(b'{"listing_id": "a", "title": "x", "created_at": "2023-11-14T22:13:20Z"}')
    assert iso.created_at_ms() == 1_700_000_000_000


def test_event_id_is_deterministic_and_depends_on_listing_content_and_model() -> None:
    base = duplicate_event_id("a", "h1", "m1")
    assert base == duplicate_event_id("a", "h1", "m1")
    assert len({base, duplicate_event_id("b", "h1", "m1"), duplicate_event_id("a", "h2", "m1"), duplicate_event_id("a", "h1", "m2")}) == 4


def test_content_hash_ignores_fields_the_encoders_do_not_read() -> None:
    one = parse_listing(b'{"listing_id": "a", "title": "Kettle 1.7L", "price": 10}')
    same_content = parse_listing(b'{"listing_id": "b", "title": "Kettle 1.7L", "price": 12, "seller_id": "s"}')
    other = parse_listing(b'{"listing_id": "a", "title": "Kettle 1.5L"}')
    assert one.content_hash() == same_content.content_hash() != other.content_hash()


def test_dead_letter_headers_carry_reason_and_source() -> None:
    letter = DeadLetter(b"k", b"v", "title: Field required", SourcePosition(topic="t", partition=2, offset=41))
    headers = dict(letter.headers())
    assert headers["dedup.error"] == b"title: Field required"
    assert (headers["dedup.source.partition"], headers["dedup.source.offset"]) == (b"2", b"41")


FIELD_NAMES = st.sampled_from(["listing_id", "title", "price", "images", "created_at", "brand"]) | st.text(max_size=8)
FIELD_VALUES = st.none() | st.integers() | st.floats() | st.text(max_size=20) | st.lists(st.integers(), max_size=3)


@given(st.dictionaries(FIELD_NAMES, FIELD_VALUES, max_size=6))
def test_parse_never_raises_anything_but_invalid_event(payload: dict) -> None:
    try:
        listing = parse_listing(json.dumps(payload).encode())
    except InvalidEvent:
        return
    assert (listing.listing_id, listing.title) == (payload["listing_id"], payload["title"])
    assert listing.title.strip() and len(listing.listing_id.encode()) <= 256
