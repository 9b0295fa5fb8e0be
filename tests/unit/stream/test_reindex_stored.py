"""Reindex from the stored listings: the text rebuilt from stored fields, rows carried field by field."""

from __future__ import annotations

import orjson
import pytest

from encoders.lexical import lexical_document
from encoders.listing import listing_text
from stream.reindex.stored import image_version, images_kept, new_row, stored_text

WRITABLE = ("listing_id", "text_vector", "image_vector", "has_image", "attributes", "first_seen", "match_group",
            "lexical_text", "reported_matches", "reported_event")


def test_the_text_is_what_the_worker_encoded_rebuilt_from_the_stored_fields() -> None:
    listing = {"title": "Bravia 55in 4K TV", "brand": "Sony", "model_number": "KD-55X80K", "price": 499.0}
    row = {"attributes": orjson.dumps(listing).decode(), "lexical_text": "ignored"}
    assert stored_text(row) == listing_text(listing) == "Sony Bravia 55in 4K TV"
    assert stored_text({"attributes": "", "lexical_text": "kd55x80k sony tv"}) == "kd55x80k sony tv"


@pytest.mark.parametrize(
    ("old", "new", "kept"),
    [
        ("minilm+len64+pca-1", "minilm+len64+pca-2", True),  # text model changed, no photos either side
        ("a+len64+p1+img:vit-1+r1", "b+len64+p2+img:vit-1+r1", True),
        ("a+len64+p1+img:vit-1+r1", "a+len64+p1+img:vit-2+r2", False),
        ("a+len64+p1+img:vit-1+r1", "a+len64+p2", False),
    ],
)
def test_photo_vectors_are_kept_only_under_the_same_image_encoder(old: str, new: str, kept: bool) -> None:
    assert images_kept(old, new) is kept
    assert image_version("a+len64+p1+img:vit-1+r1") == "vit-1+r1" and image_version("a+len64+p1") == ""


def test_a_row_carries_every_writable_field_and_gets_the_new_vector() -> None:
    row = {"listing_id": "o'brien-1", "text_vector": [9.0], "image_vector": [0.5, 0.5], "has_image": True,
           "attributes": '{"title":"TV"}', "first_seen": 7, "match_group": "g1", "lexical_text": "tv",
           "reported_matches": ["x"], "not_in_the_new_collection": 1}
    new = new_row(row, "TV", [0.1, 0.2], writable=WRITABLE, keep_images=True, dim=2)
    assert new == {**{k: v for k, v in row.items() if k in WRITABLE}, "text_vector": [0.1, 0.2]}


def test_a_row_loses_its_photo_vector_when_the_image_encoder_changed() -> None:
    row = {"listing_id": "a", "image_vector": [0.5, 0.5], "has_image": True, "first_seen": 7}
    new = new_row(row, "TV", [0.1, 0.2], writable=WRITABLE, keep_images=False, dim=2)
    assert new["image_vector"] == [0.0, 0.0] and new["has_image"] is False and new["first_seen"] == 7


def test_fields_the_old_collection_predates_are_filled_as_the_worker_would() -> None:
    row = {"listing_id": "a", "attributes": '{"title":"Sony KD-55X80K","image_phash":"00ff00ff00ff00ff"}'}
    new = new_row(row, "Sony KD-55X80K", [0.1], writable=WRITABLE, keep_images=True, dim=1)
    assert new["match_group"] == "a"
    assert new["reported_matches"] == [] and new["reported_event"] == ""  # nothing reported, nothing to retract
    assert new["lexical_text"] == lexical_document("Sony KD-55X80K", ("kd55x80k",), "00ff00ff00ff00ff")
