"""listing-updated and listing-deleted: parsing, the latest op per listing, retractions, their ids and order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pytest
from confluent_kafka import Message

from infra.milvus.lifecycle import StoredState, naming_filter, without_matches
from infra.milvus.records import ListingRecord
from stream.events import (
    EVENT_TYPE_HEADER,
    DeciderRef,
    DuplicateFound,
    InvalidEvent,
    ListingCreated,
    ListingDeleted,
    ListingUpdated,
    Match,
    SourcePosition,
    duplicate_event_id,
    parse_listing,
    parse_listing_event,
    retraction_event_id,
)
from stream.worker.incoming import Incoming, latest_per_listing, split_ops
from stream.worker.lifecycle import Deletion, apply_deletions, settled_records, update_retractions
from stream.worker.metrics import WorkerMetrics
from stream.worker.processor import BatchProcessor

SOURCE = SourcePosition(topic="listings", partition=0, offset=9)


def event(listing_id: str, matches: Sequence[str], event_id: str = "e-new") -> DuplicateFound:
    return DuplicateFound(
        event_id=event_id,
        listing_id=listing_id,
        matches=[Match(listing_id=m, score=0.9, text_similarity=0.9) for m in matches],
        decider=DeciderRef(name="d", version="1"),
        model_version="m",
        detected_at="2026-11-30T00:00:00Z",
        source=SOURCE,
    )


def incoming(value: dict[str, Any], offset: int = 0) -> Incoming:
    listing = parse_listing(orjson.dumps(value))
    return Incoming(listing=listing, source=SOURCE.model_copy(update={"offset": offset}), timestamp_ms=1)


# ---------------------------------------------------------------- parsing


def test_op_selects_the_event_and_absent_means_created() -> None:
    assert isinstance(parse_listing_event(b'{"listing_id": "a", "title": "x"}'), ListingCreated)
    assert isinstance(parse_listing_event(b'{"op": "updated", "listing_id": "a", "title": "x"}'), ListingUpdated)
    deleted = parse_listing_event(b'{"op": "deleted", "listing_id": "a", "deleted_at": "2026-11-30"}')
    assert isinstance(deleted, ListingDeleted) and deleted.listing_id == "a"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b'{"op": "removed", "listing_id": "a"}', 'op: "removed" is not an operation'),
        (b'{"op": null, "listing_id": "a", "title": "x"}', "op: null is not an operation"),
        (b'{"op": "updated", "listing_id": "a"}', "title: Field required"),
        (b'{"op": "deleted"}', "listing_id: Field required"),
        (b'{"op": "deleted", "listing_id": "a", "deleted_at": -5}', "deleted_at"),
    ],
)
def test_bad_lifecycle_events_are_dead_lettered_with_a_reason(value: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        parse_listing_event(value)


def test_the_worker_reads_deletes_as_deletions_and_updates_as_listings() -> None:
    processor = BatchProcessor(None, None, duplicates_topic="d", dlq_topic="q", max_title_chars=1_000)  # type: ignore[arg-type]
    values = [b'{"op": "deleted", "listing_id": "a"}', b'{"op": "updated", "listing_id": "b", "title": "x"}']
    values.append(b'{"op": 1}')
    messages = [Message(topic="t", partition=0, offset=i, value=v, timestamp=(1, 1)) for i, v in enumerate(values)]
    parsed, letters = processor.parse(messages)
    assert parsed[0] == Deletion(listing_id="a", source=SourcePosition(topic="t", partition=0, offset=0))
    assert isinstance(parsed[1], Incoming) and parsed[1].is_update
    assert [letter.reason for letter in letters] == ['op: 1 is not an operation: expected absent, "created", "updated"'
                                                     ' or "deleted"']


# ---------------------------------------------------------------- order within a batch


def test_the_latest_op_per_listing_wins_within_a_batch() -> None:
    created = incoming({"listing_id": "a", "title": "TV"}, 0)
    updated = incoming({"op": "updated", "listing_id": "b", "title": "Mouse"}, 1)
    deleted = Deletion("a", SOURCE)
    recreated = incoming({"listing_id": "b", "title": "Mouse 2"}, 3)
    items, deletions = split_ops(latest_per_listing([created, updated, deleted, recreated]))
    assert deletions == [deleted], "a listing created then deleted in one batch is never stored"
    assert items == [recreated]


# ---------------------------------------------------------------- ids


def test_ids_are_deterministic_and_an_update_of_decider_fields_gets_a_new_one() -> None:
    assert retraction_event_id("e", "b", ["x", "y"], "deleted") == retraction_event_id("e", "b", ["y", "x"], "deleted")
    assert retraction_event_id("e", "b", ["x"], "deleted") != retraction_event_id("e", "b", ["x"], "updated")
    assert retraction_event_id("e", "b", ["x"], "deleted") != retraction_event_id("e", "c", ["x"], "deleted")
    created = incoming({"listing_id": "a", "title": "TV", "price": 10})
    cheaper = incoming({"op": "updated", "listing_id": "a", "title": "TV", "price": 5})
    assert created.content_hash == cheaper.content_hash and created.revision == ""
    unpriced = incoming({"op": "updated", "listing_id": "a", "title": "TV"})
    assert cheaper.revision and cheaper.revision != unpriced.revision
    assert duplicate_event_id("a", "h", "m") != duplicate_event_id("a", "h", "m", cheaper.revision)


# ---------------------------------------------------------------- retractions


def test_an_update_retracts_only_what_its_new_check_no_longer_confirms() -> None:
    states = {
        "b": StoredState(1, "e-old", ("a", "c")),
        "n": StoredState(2),  # reported nothing
    }
    [retracted] = update_retractions([("b", SOURCE), ("n", SOURCE), ("new", SOURCE)], states, [event("b", ["c", "z"])])
    assert (retracted.retracts_event_id, retracted.listing_id, retracted.retracted_matches) == ("e-old", "b", ["a"])
    assert retracted.reason == "updated" and retracted.source == SOURCE
    assert retracted.event_id == retraction_event_id("e-old", "b", ["a"], "updated")
    assert update_retractions([("b", SOURCE)], states, [event("b", ["a", "c"])]) == []


def record(listing_id: str, reported: tuple[str, ...] = (), event_id: str = "") -> ListingRecord:
    return ListingRecord(listing_id, np.zeros(4, np.float32), None, None, None, 1, None,
                         reported_matches=reported, reported_event=event_id)


def test_settled_records_rewrite_only_what_changed() -> None:
    records = [record("new"), record("same", ("a",), "e-new"), record("lost", ("a",), "e-old"), record("alone")]
    events = [event("new", ["a", "b"]), event("same", ["a"])]
    settled = {r.listing_id: r for r in settled_records(records, events, groups=None)}
    assert set(settled) == {"new", "lost"}
    assert (settled["new"].reported_matches, settled["new"].reported_event) == (("a", "b"), "e-new")
    assert (settled["lost"].reported_matches, settled["lost"].reported_event) == ((), "")
    grouped = settled_records(records, events, groups={"a": "g"}, reported=False)
    assert {r.listing_id: r.match_group for r in grouped} == {"new": "g", "same": "g"}


@dataclass
class FakeStore:
    states: dict[str, StoredState]
    rows: list[dict[str, Any]]
    calls: list[str] = field(default_factory=list)
    rewritten: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def stored_states(self, ids: Sequence[str]) -> dict[str, StoredState]:
        return {i: self.states[i] for i in ids if i in self.states}

    def rows_naming(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        return [row for row in self.rows if set(row["reported_matches"]) & set(ids)]

    def rewrite_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        self.calls.append("rewrite")
        self.rewritten += rows

    def delete(self, ids: Sequence[str]) -> None:
        self.calls.append("delete")
        self.deleted += ids


def test_a_delete_retracts_its_own_event_and_those_naming_it_before_changing_milvus() -> None:
    store = FakeStore(
        states={"x": StoredState(5, "e-x", ("w",)), "gone": StoredState(6)},
        rows=[
            {"listing_id": "l", "reported_matches": ["x", "k"], "reported_event": "e-l"},
            {"listing_id": "gone", "reported_matches": ["x"], "reported_event": "e-gone"},  # deleted too
        ],
    )
    delivered: list[Any] = []
    deletions = [Deletion("x", SOURCE), Deletion("gone", SOURCE), Deletion("never-stored", SOURCE)]

    retractions = apply_deletions(store, None, deletions, lambda events: (delivered.extend(events),
                                                                         store.calls.append("deliver")))

    assert store.calls == ["deliver", "rewrite", "delete"], "retractions go out before Milvus changes"
    assert delivered == retractions
    assert [(r.retracts_event_id, r.listing_id, r.retracted_matches, r.reason) for r in retractions] == [
        ("e-x", "x", ["w"], "deleted"),
        ("e-l", "l", ["x"], "deleted"),
    ]
    assert store.rewritten == [{"listing_id": "l", "reported_matches": ["k"], "reported_event": "e-l"}]
    assert store.deleted == ["x", "gone"]
    again = apply_deletions(FakeStore(store.states, store.rows), None, deletions, None)
    assert [r.event_id for r in again] == [r.event_id for r in retractions], "recomputed with the same ids"


def test_milvus_values_are_escaped_and_rows_keep_the_rest() -> None:
    assert naming_filter(["o'b\"x"]) == 'array_contains_any(reported_matches, ["o\'b\\"x"])'
    assert without_matches({"listing_id": "l", "reported_matches": ["a", "b"]}, {"a"})["reported_matches"] == ["b"]


# ---------------------------------------------------------------- delivery and metrics


@dataclass
class RecordingProducer:
    sent: list[tuple[str, Any, bytes, list[tuple[str, bytes]]]] = field(default_factory=list)
    flushes: int = 0

    def send(self, topic: str, key: Any, value: bytes, headers: Any = None) -> None:
        self.sent.append((topic, key, value, list(headers or [])))

    def flush(self) -> None:
        self.flushes += 1


def test_events_are_keyed_by_listing_with_their_type_in_a_header_and_flushed() -> None:
    producer = RecordingProducer()
    processor = BatchProcessor(None, producer, duplicates_topic="dups", dlq_topic="q", max_title_chars=1_000)  # type: ignore[arg-type]
    [retracted] = update_retractions([("b", SOURCE)], {"b": StoredState(1, "e", ("a",))}, [])
    processor.deliver([event("b", ["a"]), retracted])
    assert [(topic, key, headers) for topic, key, _value, headers in producer.sent] == [
        ("dups", "b", [(EVENT_TYPE_HEADER, b"duplicate-found")]),
        ("dups", "b", [(EVENT_TYPE_HEADER, b"duplicate-retracted")]),
    ]
    assert orjson.loads(producer.sent[1][2])["event_type"] == "duplicate-retracted" and producer.flushes == 1


def test_updates_deletes_and_retractions_are_counted() -> None:
    metrics = WorkerMetrics()
    metrics.record_lifecycle(updates=2, deletes=1, retractions=3)
    assert (metrics.updates, metrics.deletes, metrics.retractions) == (2, 1, 3)
    assert metrics.registry.get_sample_value("dedup_lifecycle_events_total", {"op": "deleted"}) == 1
    assert metrics.registry.get_sample_value("dedup_duplicates_retracted_total") == 3
