"""listing-updated and listing-deleted through the real worker: retractions, removal, and crash-safe ids."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pytest

from decider.bundle import ModelBundle
from infra.milvus.errors import StoreUnavailable
from infra.milvus.lifecycle import StoredState, without_matches
from infra.milvus.records import ListingRecord
from infra.milvus.store import ListingStore
from stream.events import DuplicateFound, DuplicateRetracted, SourcePosition, parse_listing
from stream.settings import Settings
from stream.worker.incoming import Incoming
from stream.worker.lifecycle import Deletion
from stream.worker.processor import BatchProcessor
from stream.worker.runtime import Runtime, open_runtime
from tests.integration.test_milvus_server import milvus_server_uri  # noqa: F401  (the server fixture)
from tests.streaming import publish, read

pytestmark = pytest.mark.integration

TV = "Sony Bravia 55 inch 4K TV KD-55X80L"
MOUSE = "Logitech MX Master 3S wireless mouse"


class FailsOnceAfterDelivery(BatchProcessor):
    """Delivers, then fails before Milvus is changed (rewrites, deletes) and before the commit: the worker
    rewinds and processes the batch again, as after a crash at that moment."""

    failures_left = 1

    def deliver(self, events: Sequence[DuplicateFound | DuplicateRetracted]) -> None:
        super().deliver(events)
        if self.failures_left:
            self.failures_left -= 1
            raise StoreUnavailable("simulated: Milvus lost right after delivery")


def step(runtime: Runtime, events: Sequence[Mapping[str, Any]], *, crash_after_delivery: bool = False) -> list[dict]:
    """Publishes ``events``, runs the worker over them, returns what it sent to the duplicates topic."""
    settings = runtime.settings
    # By position, not by count: read() interleaves the topic's partitions in no fixed order.
    before = {(message.partition(), message.offset()) for message in read(settings, settings.topics.duplicates)}
    publish(settings, events)
    worker = runtime.worker()
    if crash_after_delivery:
        topics = settings.topics
        worker.processor = FailsOnceAfterDelivery(
            runtime.pipeline, runtime.producer, duplicates_topic=topics.duplicates, dlq_topic=topics.dlq,
            max_title_chars=1_000,
        )
    metrics = worker.run(max_events=len(events), until_idle=15)
    assert metrics.processed == len(events) and metrics.retries == int(crash_after_delivery)
    sent = [m for m in read(settings, settings.topics.duplicates) if (m.partition(), m.offset()) not in before]
    sent.sort(key=lambda message: message.timestamp()[1])  # the order they were produced in
    for message in sent:  # the header tells the two kinds apart without parsing
        assert dict(message.headers())["dedup.event-type"] == orjson.loads(message.value())["event_type"].encode()
    return [orjson.loads(message.value()) for message in sent]


def only(events: Sequence[dict], event_type: str) -> list[dict]:
    return [event for event in events if event["event_type"] == event_type]


def sent_twice_under_the_same_ids(events: Sequence[dict]) -> bool:
    return bool(events) and set(Counter(event["event_id"] for event in events).values()) == {2}


def test_updates_and_deletes_retract_what_no_longer_holds(
    pipeline_settings: Settings, baseline_model: ModelBundle
) -> None:
    with open_runtime(pipeline_settings, baseline_model) as runtime:
        store = runtime.store
        assert step(runtime, [{"listing_id": "A", "title": TV}]) == []
        [found_b] = step(runtime, [{"listing_id": "B", "title": TV}])
        assert found_b["listing_id"] == "B" and [m["listing_id"] for m in found_b["matches"]] == ["A"]
        assert found_b["event_type"] == "duplicate-found"
        assert store.stored_states(["B"])["B"].reported_matches == ("A",)

        # B becomes a mouse: (B, A) is retracted; a crash after delivery re-sends the same ids.
        updated = step(runtime, [{"op": "updated", "listing_id": "B", "title": MOUSE}], crash_after_delivery=True)
        assert sent_twice_under_the_same_ids(updated)
        [retracted] = list({event["event_id"]: event for event in only(updated, "duplicate-retracted")}.values())
        assert (retracted["retracts_event_id"], retracted["listing_id"]) == (found_b["event_id"], "B")
        assert (retracted["retracted_matches"], retracted["reason"]) == (["A"], "updated")
        assert only(updated, "duplicate-found") == []
        assert store.stored_states(["B"])["B"].reported_matches == ()

        [found_c] = step(runtime, [{"listing_id": "C", "title": TV}])
        assert [m["listing_id"] for m in found_c["matches"]] == ["A"]

        # A is deleted: C's event is retracted for A, A leaves Milvus, and a crash after delivery re-sends.
        deleted = step(runtime, [{"op": "deleted", "listing_id": "A"}], crash_after_delivery=True)
        assert sent_twice_under_the_same_ids(deleted)
        [retracted] = list({event["event_id"]: event for event in deleted}.values())
        assert (retracted["retracts_event_id"], retracted["listing_id"]) == (found_c["event_id"], "C")
        assert (retracted["retracted_matches"], retracted["reason"]) == (["A"], "deleted")
        assert "A" not in store.stored_states(["A", "B", "C"]) and store.count() == 2
        assert store.stored_states(["C"])["C"].reported_matches == ()

        # A new copy of the TV matches C, never A.
        found_d = step(runtime, [{"listing_id": "D", "title": TV}])
        assert [[m["listing_id"] for m in event["matches"]] for event in found_d] == [["C"]]


def test_a_listing_deleted_in_the_same_batch_is_never_reported(
    pipeline_settings: Settings, baseline_model: ModelBundle
) -> None:
    def at(offset: int) -> SourcePosition:
        return SourcePosition(topic="listings", partition=0, offset=offset)

    def created(listing_id: str, offset: int) -> Incoming:
        return Incoming(parse_listing(orjson.dumps({"listing_id": listing_id, "title": TV})), at(offset), offset)

    with open_runtime(pipeline_settings, baseline_model) as runtime:
        runtime.pipeline.process([created("A", 0)])
        report = runtime.pipeline.process([created("E", 1), Deletion("A", at(2))])
        assert (report.duplicates, report.deletes, report.retractions) == ([], 1, [])
        assert set(runtime.store.stored_states(["A", "E"])) == {"E"}
        assert runtime.cache is None or not runtime.cache.get_listings(["A"]), "its Redis entry is gone too"


@pytest.mark.milvus_server
@pytest.mark.slow
def test_reported_matches_rewrites_and_deletes_on_a_milvus_server(
    milvus_server_uri: str, unique_name: Callable[[str], str]  # noqa: F811  (the imported fixture)
) -> None:
    """ARRAY<VARCHAR>, array_contains_any, whole-row rewrites and deletes on the 2.3 server (one vector field)."""
    store = ListingStore(milvus_server_uri, unique_name("lifecycle"), model_version="test-model", dim=8)
    store.ensure_collection()
    try:
        assert store.reported
        vectors = np.eye(8, dtype=np.float32)
        store.upsert([
            ListingRecord("a", vectors[0], vectors[1], None, None, 1, None),
            ListingRecord("o'b", vectors[0], None, None, None, 2, 3.5, reported_matches=("a",), reported_event="e1"),
            ListingRecord("c", vectors[0], None, None, None, 3, None, reported_matches=("a", "x"), reported_event="e2"),
        ])
        naming = store.rows_naming(["a"])
        assert sorted(row["listing_id"] for row in naming) == ["c", "o'b"]
        store.rewrite_rows([without_matches(row, {"a"}) for row in naming])
        store.delete(["a"])
        states = store.stored_states(["a", "o'b", "c"])
        assert set(states) == {"o'b", "c"} and states["c"] == StoredState(3, "e2", ("x",))
        assert store.fetch_vectors(["o'b"])["o'b"][0].tolist() == vectors[0].tolist(), "the rewrite kept the row"
        assert "a" not in {n.listing_id for n in store.search(vectors[:1], limit=3)[0]}
    finally:
        store.drop()
        store.close()
