"""ListingStore against the session Milvus (Milvus Lite by default)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import pytest

from infra.milvus.errors import StoreError, StoreUnavailable, StoreVersionMismatch
from infra.milvus.records import ListingRecord
from infra.milvus.store import ListingStore
from infra.stack.services import free_port

pytestmark = pytest.mark.integration

DIM = 128
MODEL = "test-model-v1"


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def records(
    text: np.ndarray, *, image: np.ndarray | None = None, prefix: str = "listing", created_at_base: int = 0
) -> list[ListingRecord]:
    return [
        ListingRecord(
            listing_id=f"{prefix}-{i}",
            text_vector=text[i],
            image_vector=None if image is None else image[i],
            category="bikes" if i % 2 else None,
            seller_id=f"seller-{i % 7}",
            created_at_ms=created_at_base + i,
            price=float(i) if i % 3 else None,
        )
        for i in range(len(text))
    ]


@pytest.fixture
def store(milvus_uri: str, unique_name: Callable[[str], str]) -> Iterator[ListingStore]:
    listing_store = ListingStore(milvus_uri, unique_name("listings"), model_version=MODEL, dim=DIM)
    listing_store.ensure_collection()
    try:
        yield listing_store
    finally:
        listing_store.drop()
        listing_store.close()


def test_search_finds_each_vector_first_and_matches_brute_force(store: ListingStore) -> None:
    vectors = unit_vectors(300, seed=1)
    store.upsert(records(vectors))

    found = store.search(vectors[:40], limit=5)

    similarities = vectors[:40] @ vectors.T
    for row, neighbours in enumerate(found):
        expected = np.argsort(-similarities[row], kind="stable")[:5]
        assert [n.listing_id for n in neighbours] == [f"listing-{i}" for i in expected]
        assert [n.created_at_ms for n in neighbours] == [int(i) for i in expected]
        np.testing.assert_allclose([n.similarity for n in neighbours], similarities[row, expected], atol=1e-4)
        assert neighbours[0].listing_id == f"listing-{row}"


def test_upserting_the_same_ids_again_replaces_rows_without_adding(store: ListingStore) -> None:
    first, second = unit_vectors(50, seed=2), unit_vectors(50, seed=3)
    store.upsert(records(first))
    store.upsert(records(second, created_at_base=1_000))

    assert store.count() == 50
    stored = store.fetch_vectors(["listing-7"])
    np.testing.assert_array_equal(stored["listing-7"][0], second[7])
    nearest = store.search(second[7:8], limit=1)[0][0]
    assert (nearest.listing_id, nearest.created_at_ms) == ("listing-7", 1_007)


def test_duplicate_ids_within_one_upsert_keep_the_last_record(store: ListingStore) -> None:
    old, new = unit_vectors(2, seed=4)
    batch = records(old[None, :], prefix="dup") + records(new[None, :], prefix="dup", created_at_base=5)

    store.upsert(batch)

    assert store.count() == 1
    np.testing.assert_array_equal(store.fetch_vectors(["dup-0"])["dup-0"][0], new)


def test_fetch_vectors_returns_what_was_stored_and_no_image_when_absent(store: ListingStore) -> None:
    text, image = unit_vectors(4, seed=5), unit_vectors(4, seed=6)
    with_image = records(text[:2], image=image[:2], prefix="photo")
    without_image = records(text[2:], prefix="plain")
    store.upsert(with_image + without_image)

    fetched = store.fetch_vectors(["photo-0", "photo-1", "plain-0", "plain-1", "never-stored", "photo-0"])

    assert sorted(fetched) == ["photo-0", "photo-1", "plain-0", "plain-1"]
    for i in range(2):
        np.testing.assert_array_equal(fetched[f"photo-{i}"][0], text[i])
        np.testing.assert_array_equal(fetched[f"photo-{i}"][1], image[i])
        np.testing.assert_array_equal(fetched[f"plain-{i}"][0], text[2 + i])
        assert fetched[f"plain-{i}"][1] is None
    assert fetched["photo-0"][0].dtype == np.float32


def test_rows_upserted_are_visible_to_an_immediate_search(store: ListingStore) -> None:
    vectors = unit_vectors(60, seed=7)
    for start in range(0, 60, 20):
        store.upsert(records(vectors[start : start + 20], prefix=f"wave{start}"))

        found = store.search(vectors[start : start + 20], limit=1)

        assert [hits[0].listing_id for hits in found] == [f"wave{start}-{i}" for i in range(20)]
        assert store.count() == start + 20


def test_reopening_checks_the_model_version(milvus_uri: str, store: ListingStore) -> None:
    store.upsert(records(unit_vectors(3, seed=8)))

    same_model = ListingStore(milvus_uri, store.collection, model_version=MODEL, dim=DIM)
    other_model = ListingStore(milvus_uri, store.collection, model_version="test-model-v2", dim=DIM)
    try:
        same_model.ensure_collection()
        assert same_model.count() == 3
        mismatch = "built with model test-model-v1 but this worker loads model test-model-v2"
        with pytest.raises(StoreVersionMismatch, match=mismatch):
            other_model.ensure_collection()
    finally:
        same_model.close()
        other_model.close()


def test_reopening_with_another_dimension_is_refused(milvus_uri: str, store: ListingStore) -> None:
    narrower = ListingStore(milvus_uri, store.collection, model_version=MODEL, dim=64)
    try:
        with pytest.raises(StoreError, match="stores 128-d vectors but this worker produces 64-d"):
            narrower.ensure_collection()
    finally:
        narrower.close()


@pytest.mark.parametrize("index_type", ["IVF_PQ", "DISKANN"])
def test_milvus_lite_refuses_index_types_it_cannot_build(
    milvus_uri: str, unique_name: Callable[[str], str], index_type: str
) -> None:
    if milvus_uri.startswith("http"):
        pytest.skip("a Milvus server builds these index types")
    store = ListingStore(milvus_uri, unique_name("unbuildable"), model_version=MODEL, index_type=index_type)
    try:
        with pytest.raises(StoreError, match=f"Milvus Lite .* cannot build index type {index_type}; use one of"):
            store.ensure_collection()
        with pytest.raises(StoreError, match="call ensure_collection"):
            store.count()
    finally:
        store.close()


def test_unknown_index_type_is_refused(milvus_uri: str, unique_name: Callable[[str], str]) -> None:
    store = ListingStore(milvus_uri, unique_name("unknown"), model_version=MODEL, index_type="SPARSE_WAND")
    try:
        with pytest.raises(StoreError, match="unknown Milvus index type 'SPARSE_WAND'"):
            store.ensure_collection()
    finally:
        store.close()


@pytest.mark.parametrize("index_type", ["FLAT", "HNSW", "IVF_FLAT", "IVF_SQ8"])
def test_lite_index_types_round_trip(milvus_uri: str, unique_name: Callable[[str], str], index_type: str) -> None:
    store = ListingStore(milvus_uri, unique_name("indexed"), model_version=MODEL, index_type=index_type)
    store.ensure_collection()
    try:
        vectors = unit_vectors(100, seed=9)
        store.upsert(records(vectors))
        found = store.search(vectors[:10], limit=3)
        assert [hits[0].listing_id for hits in found] == [f"listing-{i}" for i in range(10)]
    finally:
        store.drop()
        store.close()


def test_an_existing_collection_keeps_its_index_type(
    milvus_uri: str, store: ListingStore, caplog: pytest.LogCaptureFixture
) -> None:
    vectors = unit_vectors(50, seed=10)
    store.upsert(records(vectors))
    reopened = ListingStore(milvus_uri, store.collection, model_version=MODEL, index_type="IVF_FLAT")
    try:
        with caplog.at_level(logging.WARNING, logger="infra.milvus.store"):
            reopened.ensure_collection()

        assert "already has index type AUTOINDEX; ignoring the requested IVF_FLAT" in caplog.text
        assert reopened.search(vectors[:1], limit=1)[0][0].listing_id == "listing-0"
    finally:
        reopened.close()


def test_queries_of_the_wrong_shape_are_rejected(store: ListingStore) -> None:
    with pytest.raises(ValueError, match=r"expected \(n, 128\)"):
        store.search(np.zeros((2, 64), dtype=np.float32), limit=3)
    with pytest.raises(ValueError, match=r"listing 'listing-0': text_vector has shape \(64,\)"):
        store.upsert(records(np.zeros((1, 64), dtype=np.float32)))
    assert store.search(np.zeros((0, DIM), dtype=np.float32), limit=3) == []


def test_an_unreachable_server_is_reported_as_retryable() -> None:
    with pytest.raises(StoreUnavailable, match="retry later"):
        ListingStore(f"http://127.0.0.1:{free_port()}", "listings", model_version=MODEL, request_timeout_s=2.0)


def test_search_hits_carry_the_listing_attributes_deciders_read(store: ListingStore) -> None:
    text = unit_vectors(3, seed=41)
    long_description = "spec sheet " * 2_000  # far past the VARCHAR limit
    attributes = [
        {"title": "Seagate IronWolf Pro 4TB ST4000NE001", "brand": "Seagate", "price": 154.1},
        {"title": "Kettle", "description": long_description},
        None,
    ]
    store.upsert([replace(record, attributes=attrs) for record, attrs in zip(records(text), attributes, strict=True)])
    hits = {hit.listing_id: hit for hit in store.search(text, limit=3)[0]}
    assert hits["listing-0"].attributes == attributes[0]
    shortened = hits["listing-1"].attributes
    assert shortened is not None and shortened["title"] == "Kettle"
    assert long_description.startswith(shortened["description"]) and len(shortened["description"]) < 1_000
    assert hits["listing-2"].attributes is None


TITLES = [
    "Maling TTS Canned Pork Luncheon Meat 397 gr",
    "luncheon meat maling tts 397gr kaleng",
    "HnKfashion Sweater Hoodie WHO Printing BabyTerry - Fit L",
    "sweater hoodie babyterry printing WHO",
    "Nutrisari Jeruk Maroko 10's",
]


def test_the_lexical_channel_finds_listings_worded_alike(milvus_uri: str, unique_name: Callable[[str], str]) -> None:
    store = ListingStore(milvus_uri, unique_name("lexical"), model_version=MODEL, dim=DIM, lexical=True)
    store.ensure_collection()
    try:
        assert store.lexical
        vectors = unit_vectors(len(TITLES), seed=9)  # unrelated vectors: only the words can match
        stored = records(vectors, created_at_base=1_000)  # first stored at 1_000 + i
        store.upsert([replace(r, text=title) for r, title in zip(stored, TITLES, strict=True)])
        texts = ["Luncheon meat MALING 397 gr", "babyterry hoodie"]
        found = store.search_text(texts, limit=2)
        expected = [["listing-0", "listing-1"], ["listing-3", "listing-2"]]
        assert [[n.listing_id for n in hits] for hits in found] == expected
        assert all(np.isnan(n.similarity) and n.first_seen_ms > 0 for hits in found for n in hits)
        earlier = store.search_text(texts, limit=1, earlier_than=[(1_001, "listing-1"), (1_003, "listing-3")])
        assert [[n.listing_id for n in hits] for hits in earlier] == [["listing-0"], ["listing-2"]]
    finally:
        store.drop()
        store.close()


def test_a_collection_without_the_lexical_channel_keeps_working_without_it(
    milvus_uri: str, store: ListingStore, caplog: pytest.LogCaptureFixture
) -> None:
    assert not store.lexical and store.search_text(["anything"], limit=5) == [[]]
    reopened = ListingStore(milvus_uri, store.collection, model_version=MODEL, dim=DIM, lexical=True)
    try:
        with caplog.at_level(logging.WARNING, logger="infra.milvus.store"):
            reopened.ensure_collection()
        assert not reopened.lexical
        assert "lexical candidates (shared words, identifiers, photo hashes) off" in caplog.text
        assert "\n" not in caplog.records[-1].getMessage()
        reopened.upsert(records(unit_vectors(3, seed=2), prefix="later"))
        assert reopened.count() == 3
    finally:
        reopened.close()


def test_searches_keep_earlier_listings_even_when_later_ones_are_nearer(store: ListingStore) -> None:
    """k=1, as in a replay: thirty later near-copies of the query would take the only slot from its earlier match."""
    query = unit_vectors(1, seed=40)
    noise = unit_vectors(32, seed=41)
    near = query + 0.05 * noise
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    farther = query + 0.5 * noise[:1]
    farther /= np.linalg.norm(farther, axis=1, keepdims=True)

    def row(listing_id: str, vector: np.ndarray, first_seen: int) -> ListingRecord:
        return ListingRecord(listing_id, vector, vector, None, None, 0, None, first_seen_ms=first_seen)

    # "p-tie" was stored in the same batch as the query's listing but sorts after it: later too.
    store.upsert(
        [row("o'brien-early", farther[0], 100), row("p-tie", near[0], 500)]
        + [row(f"later-{i}", near[i + 1], 900) for i in range(30)]
    )
    assert store.search(query, 1)[0][0].listing_id.startswith(("later-", "p-tie")), "the match must be crowded out"

    queries = np.vstack([query, query])
    keys = [(500, "o'brien-me"), (900, "zz")]  # the second, a later listing, makes the batch's filter loose
    for found in (store.search(queries, 1, keys), store.search_images(queries, 1, keys)):
        assert found[0][0].listing_id == "o'brien-early"
        assert found[1][0].listing_id.startswith("later-")
        assert len(found[0]) == len(found[1]) == 1


def test_a_lexical_collection_opened_with_the_channel_off_still_takes_upserts(
    milvus_uri: str, unique_name: Callable[[str], str]
) -> None:
    """Its rows need the analysed text whether or not the worker searches it (DEDUP_MILVUS_LEXICAL_CANDIDATES=0)."""
    created = ListingStore(milvus_uri, unique_name("lexical_off"), model_version=MODEL, dim=DIM, lexical=True)
    created.ensure_collection()
    created.close()
    reopened = ListingStore(milvus_uri, created.collection, model_version=MODEL, dim=DIM, lexical=False)
    reopened.ensure_collection()
    try:
        reopened.upsert([replace(r, text="Sony TV") for r in records(unit_vectors(2, seed=4))])
        assert reopened.count() == 2
    finally:
        reopened.drop()
        reopened.close()
