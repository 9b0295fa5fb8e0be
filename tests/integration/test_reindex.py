"""``dedup reindex`` on Milvus Lite: the alias moves to the new model's collection while searches keep answering.

Milvus Lite allows one process per file, so the searches run on a thread of this process while the
reindex runs: each search goes through the alias, and the answers come from the old collection (random
vectors) until the switch and from the new one (the new model's vectors) after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from pymilvus import MilvusClient

from decider.bundle import ModelBundle
from decider.synthetic.generator import generate_catalog
from encoders.listing import listing_text
from encoders.text import TextEncoder
from infra.milvus.aliases import physical_name, resolve
from infra.milvus.errors import StoreVersionMismatch
from infra.milvus.records import ListingRecord
from infra.milvus.schema import string_list_literal
from infra.milvus.store import ListingStore
from stream.commands.cli import main
from stream.reindex.errors import ReindexError
from stream.reindex.job import run_reindex
from stream.settings import Settings
from tests.streaming import publish, read

pytestmark = pytest.mark.integration

OLD_MODEL = "old-model-v1"
PAST_MS = 1_767_225_600_000  # 2026-01-01: first stored long before the reindex starts
DIM = 128


@dataclass
class Search:
    started: float
    ended: float
    top_id: str
    similarity: float


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _record(listing: dict, vector: np.ndarray, image: np.ndarray | None, first_seen_ms: int) -> ListingRecord:
    attributes = {k: listing[k] for k in ("title", "brand", "model_number", "price") if listing.get(k) is not None}
    return ListingRecord(
        listing_id=listing["listing_id"], text_vector=vector, image_vector=image, category=listing.get("category"),
        seller_id=None, created_at_ms=PAST_MS, price=listing.get("price"), attributes=attributes,
        first_seen_ms=first_seen_ms, text=listing_text(listing),
    )


@pytest.fixture
def old_listings(milvus_uri: str, unique_name: Callable[[str], str]) -> tuple[str, list[dict]]:
    """An alias on a collection of the old model (random vectors; every other listing with a photo vector)."""
    alias = unique_name("reindexed")
    listings = generate_catalog(n_products=120, seed=5).listings
    rng = np.random.default_rng(0)
    text, photos = _unit(rng, len(listings)), _unit(rng, len(listings))
    store = ListingStore(milvus_uri, alias, model_version=OLD_MODEL, dim=DIM, lexical=True)
    store.ensure_collection()
    store.upsert(
        [_record(listing, text[i], photos[i] if i % 2 else None, PAST_MS) for i, listing in enumerate(listings)]
    )
    assert store.collection == physical_name(alias, OLD_MODEL)
    store.close()
    return alias, listings


def _settings(milvus_uri: str, alias: str) -> Settings:
    return Settings(milvus={"uri": milvus_uri, "collection": alias}, encoder={"device": "cpu"})


class Searcher(threading.Thread):
    """Searches one listing's new-model vector through the alias until stopped; keeps every answer."""

    def __init__(self, uri: str, alias: str, query: np.ndarray) -> None:
        super().__init__(daemon=True)
        self.client = MilvusClient(uri=uri)
        self.alias, self.query = alias, query
        self.searches: list[Search] = []
        self.failures: list[BaseException] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            started = time.monotonic()
            try:
                hits = self.client.search(
                    self.alias, data=[self.query.tolist()], anns_field="text_vector", limit=1,
                    search_params={"metric_type": "IP"}, output_fields=["listing_id"],
                )[0]
                found = Search(started, time.monotonic(), str(hits[0]["entity"]["listing_id"]), hits[0]["distance"])
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                self.failures.append(exc)
                continue
            self.searches.append(found)

    def wait_for(self, count: int, after: float = 0.0, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while sum(s.started > after for s in self.searches) < count and time.monotonic() < deadline:
            time.sleep(0.01)


def test_reindex_from_stored_switches_the_alias_while_searches_answer(
    milvus_uri: str, old_listings: tuple[str, list[dict]], baseline_model: ModelBundle
) -> None:
    alias, listings = old_listings
    probe = listings[7]
    searcher = Searcher(milvus_uri, alias, baseline_model.embed([listing_text(probe)])[0])
    stages: dict[str, float] = {}
    client = MilvusClient(uri=milvus_uri)
    old_collection = physical_name(alias, OLD_MODEL)
    late, gone = dict(listings[0], listing_id="late-o'brien-1"), listings[1]["listing_id"]

    def during_copy(_rows: int) -> None:  # what workers do meanwhile: a new listing stored, one deleted
        if "late" not in stages:
            stages["late"] = time.monotonic()
            writer = ListingStore(milvus_uri, old_collection, model_version=OLD_MODEL, dim=DIM, lexical=True)
            writer.ensure_collection()
            writer.upsert([_record(late, _unit(np.random.default_rng(1), 1)[0], None, int(time.time() * 1000))])
            writer.close()
            client.delete(old_collection, filter=f"listing_id in {string_list_literal([gone])}")

    searcher.start()
    try:
        searcher.wait_for(5)
        summary = run_reindex(
            _settings(milvus_uri, alias), baseline_model, on_progress=during_copy,
            on_stage=lambda stage: stages.setdefault(stage, time.monotonic()),
        )
        searcher.wait_for(5, after=stages["switched"])
    finally:
        searcher.halt.set()
        searcher.join(timeout=30)

    new_collection = physical_name(alias, baseline_model.embedding_version)
    assert not searcher.failures, searcher.failures[:3]
    assert (summary.old_collection, summary.new_collection) == (old_collection, new_collection)
    assert resolve(client, alias, 10) == new_collection
    assert summary.listings == len(listings) and summary.removed == 1 and summary.caught_up >= 1
    assert summary.copied >= len(listings) - 1 and summary.images == "kept" and not summary.old_dropped
    before = [s for s in searcher.searches if s.ended < stages["switch"]]
    after = [s for s in searcher.searches if s.started > stages["switched"]]
    assert len(before) >= 5 and len(after) >= 5
    assert all(s.similarity < 0.9 for s in before), "before the switch the old (random) vectors answer"
    assert all(s.top_id == probe["listing_id"] and s.similarity > 0.99 for s in after), "after it the new ones"
    rows = client.query(new_collection, filter=f"listing_id in {string_list_literal([late['listing_id'], gone])}",
                        output_fields=["listing_id", "has_image", "match_group", "lexical_text"])
    assert [row["listing_id"] for row in rows] == [late["listing_id"]], "caught up, and the deleted one removed"
    assert rows[0]["match_group"] == late["listing_id"] and rows[0]["lexical_text"]
    with_photos = client.query(new_collection, filter="has_image == true", output_fields=["count(*)"])[0]["count(*)"]
    assert with_photos == len(listings) // 2 - 1, "photo vectors kept (the image encoder did not change)"

    # Workers resolve the alias when they open: the old model is refused, the new one gets the new collection.
    with pytest.raises(StoreVersionMismatch, match=f"alias '{alias}'"):
        ListingStore(milvus_uri, alias, model_version=OLD_MODEL, dim=DIM).ensure_collection()
    reopened = ListingStore(milvus_uri, alias, model_version=baseline_model.embedding_version, dim=DIM)
    reopened.ensure_collection()
    assert reopened.collection == new_collection and reopened.count() == len(listings)
    reopened.close()
    assert client.has_collection(old_collection), "--keep-old is the default"


def test_a_plain_collection_keeps_working_and_is_renamed_by_its_first_reindex(
    milvus_uri: str, unique_name: Callable[[str], str], baseline_model: ModelBundle
) -> None:
    name = unique_name("plain")
    listings = generate_catalog(n_products=20, seed=8).listings
    vectors = _unit(np.random.default_rng(2), len(listings))
    created = ListingStore(milvus_uri, name, model_version=OLD_MODEL, dim=DIM, aliased=False)
    created.ensure_collection()
    created.upsert([_record(listing, vectors[i], None, PAST_MS) for i, listing in enumerate(listings)])
    created.close()
    worker = ListingStore(milvus_uri, name, model_version=OLD_MODEL, dim=DIM)
    worker.ensure_collection()
    assert worker.collection == name and worker.count() == len(listings), "an existing plain collection is used as is"
    worker.close()

    summary = run_reindex(_settings(milvus_uri, name), baseline_model, drop_old=True)

    client = MilvusClient(uri=milvus_uri)
    assert summary.old_collection == physical_name(name, OLD_MODEL) and summary.old_dropped
    assert resolve(client, name, 10) == summary.new_collection and summary.listings == len(listings)
    assert not client.has_collection(summary.old_collection)


def test_reindex_refuses_in_one_line(
    milvus_uri: str, old_listings: tuple[str, list[dict]], unique_name: Callable[[str], str],
    baseline_model: ModelBundle, capsys: pytest.CaptureFixture[str],
) -> None:
    alias, _ = old_listings
    assert baseline_model.directory is not None
    model = ["--model", str(baseline_model.directory), "--milvus-uri", milvus_uri, "--device", "cpu"]
    assert main(["reindex", *model, "--collection", unique_name("missing")]) == 1
    assert "nothing to reindex: no collection or alias" in capsys.readouterr().err
    run_reindex(_settings(milvus_uri, alias), baseline_model)
    assert main(["reindex", *model, "--collection", alias]) == 1
    error = capsys.readouterr().err
    assert "Traceback" not in error and error.splitlines()[-1].startswith("dedup: error: collection ")
    assert error.splitlines()[-1].endswith(f"already holds model {baseline_model.embedding_version}")
    with pytest.raises(ReindexError, match="stopped before the switch"):
        stop = threading.Event()
        stop.set()
        run_reindex(_settings(milvus_uri, alias), _other_model(baseline_model), stop=stop)
    assert resolve(MilvusClient(uri=milvus_uri), alias, 10) == physical_name(alias, baseline_model.embedding_version)


def _other_model(model: ModelBundle) -> ModelBundle:
    """The same weights reading at most 48 tokens: another embedding version, so another collection."""
    encoder = TextEncoder(model.encoder.model_path, device="cpu", max_length=48)
    return ModelBundle(encoder=encoder, reducer=model.reducer, decider=model.decider, directory=model.directory)


@pytest.mark.slow
def test_reindex_from_the_topic_replays_into_the_new_collection_and_emits_nothing(
    pipeline_settings: Settings, baseline_model: ModelBundle
) -> None:
    from stream.worker.runtime import open_runtime

    catalog = generate_catalog(n_products=25, seed=31)
    publish(pipeline_settings, [*catalog.listings, b"not json"])
    with open_runtime(pipeline_settings, baseline_model) as runtime:
        runtime.worker().run(max_events=len(catalog.listings) + 1, until_idle=15)
        first_seen = runtime.store.first_seen([listing["listing_id"] for listing in catalog.listings])
    sent = (len(read(pipeline_settings, pipeline_settings.topics.duplicates)),
            len(read(pipeline_settings, pipeline_settings.topics.dlq)))
    assert sent[0] > 0 and sent[1] == 1
    new_model = _other_model(baseline_model)

    summary = run_reindex(pipeline_settings, new_model, source="topic")

    assert summary.listings == len(catalog.listings) and summary.copied == len(catalog.listings)
    assert summary.images == "re-read from the topic"
    sent_after = (len(read(pipeline_settings, pipeline_settings.topics.duplicates)),
                  len(read(pipeline_settings, pipeline_settings.topics.dlq)))
    assert sent_after == sent, "a reindex emits no event and no dead letter"
    reopened = ListingStore(
        pipeline_settings.milvus.uri, pipeline_settings.milvus.collection, model_version=new_model.embedding_version,
        dim=DIM,
    )
    reopened.ensure_collection()
    assert reopened.collection == summary.new_collection
    assert reopened.first_seen(list(first_seen)) == first_seen, "first-seen times carried from the old collection"
    reopened.close()
