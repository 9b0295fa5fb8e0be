"""Replay re-emits the same events for a range and never touches the live group's offsets."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from confluent_kafka import Consumer

from decider.bundle import ModelBundle
from decider.synthetic.generator import generate_catalog
from stream.commands.options import ReplayOptions
from stream.commands.replay import run_replay
from stream.replay import ReplayError, parse_timestamp_ms, plan_ranges
from stream.settings import Settings
from stream.worker.runtime import open_runtime
from tests.streaming import committed_and_ends, duplicate_events, now_iso, publish

pytestmark = pytest.mark.integration


@pytest.fixture
def processed_catalog(pipeline_settings: Settings, baseline_model: ModelBundle) -> tuple[int, list[dict]]:
    catalog = generate_catalog(n_products=30, seed=23)
    publish(pipeline_settings, catalog.listings)
    with open_runtime(pipeline_settings, baseline_model) as runtime:
        metrics = runtime.worker().run(max_events=len(catalog.listings), until_idle=15)
    assert metrics.processed == len(catalog.listings)
    events = duplicate_events(pipeline_settings)
    assert events, "the catalog must produce duplicate events for this test to mean anything"
    return len(catalog.listings), events


def test_replay_from_a_timestamp_re_emits_the_same_event_ids_and_leaves_the_live_group_alone(
    pipeline_settings: Settings, processed_catalog: tuple[int, list[dict]]
) -> None:
    total, original = processed_catalog
    live_before = committed_and_ends(pipeline_settings)

    result = run_replay(ReplayOptions(from_timestamp=now_iso(-3600)), pipeline_settings, threading.Event())

    assert result.processed == total and sum(r.size for r in result.ranges) == total
    everything = duplicate_events(pipeline_settings)
    assert len(everything) == 2 * len(original)
    times_sent = Counter(event["event_id"] for event in everything)
    assert all(times_sent[event["event_id"]] == 2 for event in original), "replay must re-emit the same ids"
    matches = Counter((e["listing_id"], tuple(sorted(m["listing_id"] for m in e["matches"]))) for e in everything)
    assert all(count == 2 for count in matches.values()), "and the same matches"
    assert committed_and_ends(pipeline_settings) == live_before


def test_replay_range_is_bounded_by_to_timestamp_and_offsets(
    pipeline_settings: Settings, processed_catalog: tuple[int, list[dict]]
) -> None:
    total, original = processed_catalog
    nothing = run_replay(
        ReplayOptions(from_timestamp=now_iso(-7200), to_timestamp=now_iso(-3600)), pipeline_settings, threading.Event()
    )
    assert nothing.processed == 0 and nothing.ranges == ()

    _committed, ends = committed_and_ends(pipeline_settings)
    partition = max(ends, key=ends.get)
    options = ReplayOptions(from_offsets=f"{partition}:{ends[partition] - 2}", group="backfill-1")
    tail = run_replay(options, pipeline_settings, threading.Event())
    assert tail.processed == 2
    committed, _ = committed_and_ends(pipeline_settings, group_id="backfill-1")
    assert committed[partition] == ends[partition]
    assert len(duplicate_events(pipeline_settings)) <= len(original) + 2


def test_replay_refuses_a_worker_group_and_unknown_partitions(
    pipeline_settings: Settings, processed_catalog: tuple[int, list[dict]]
) -> None:
    worker_group = pipeline_settings.kafka.group_id
    with pytest.raises(ReplayError, match="must differ from the live group"):
        run_replay(ReplayOptions(from_offsets="0:0", group=worker_group), pipeline_settings, threading.Event())
    # A worker started with `dedup run --group X` under other settings: X's committed offsets are on the broker.
    elsewhere = pipeline_settings
    elsewhere.kafka = elsewhere.kafka.model_copy(update={"group_id": "another-live-group"})
    before = committed_and_ends(elsewhere, group_id=worker_group)
    with pytest.raises(ReplayError, match=f"group '{worker_group}' has committed offsets on"):
        run_replay(ReplayOptions(from_offsets="0:0", group=worker_group), elsewhere, threading.Event())
    assert committed_and_ends(elsewhere, group_id=worker_group) == before
    with open_runtime(pipeline_settings) as runtime:
        consumer = runtime.consumer("probe")
        try:
            with pytest.raises(ReplayError, match="not \\[99\\]"):
                client, topic = pipeline_settings.kafka.client_config(), pipeline_settings.topics.listings
                plan_ranges(consumer, client, topic, from_offsets={99: 0})
        finally:
            consumer.close()


def test_replay_finds_the_earlier_match_that_later_listings_would_crowd_out(
    pipeline_settings: Settings, baseline_model: ModelBundle
) -> None:
    """k=1: when B was first processed only A was stored; at replay twelve later copies of B are nearer."""
    settings = pipeline_settings
    only_one = {"candidates": 1, "lexical_candidates": 0, "group_candidates": 0}
    settings.milvus = settings.milvus.model_copy(update=only_one)
    first = [
        {"listing_id": "a-orig", "title": "Samsung UE55TU7100 55 inch Crystal UHD 4K Smart TV", "brand": "Samsung"},
        {"listing_id": "b-dup", "title": "Samsung 55\" Crystal UHD 4K Smart TV UE55TU7100", "brand": "Samsung"},
    ]
    copies = [{**first[1], "listing_id": f"c-copy-{i:02d}"} for i in range(12)]
    for wave in (first, copies):
        publish(settings, wave)
        with open_runtime(settings, baseline_model) as runtime:
            assert runtime.worker().run(max_events=len(wave), until_idle=15).processed == len(wave)
    original = {e["listing_id"]: sorted(m["listing_id"] for m in e["matches"]) for e in duplicate_events(settings)}
    assert original.get("b-dup") == ["a-orig"], "the first run must match B with A for this test to mean anything"

    result = run_replay(ReplayOptions(from_timestamp=now_iso(-3600)), settings, threading.Event())

    assert result.processed == len(first) + len(copies)
    everything = duplicate_events(settings)  # the first run's and the replay's, partitions interleaved
    assert len(everything) == 2 * len(original)
    sent = Counter((e["listing_id"], tuple(sorted(m["listing_id"] for m in e["matches"]))) for e in everything)
    assert sent[("b-dup", ("a-orig",))] == 2 and set(sent.values()) == {2}, "the replay matched as the first run did"


def test_replay_refuses_a_group_with_active_members(pipeline_settings: Settings) -> None:
    publish(pipeline_settings, [{"listing_id": "one", "title": "Kettle"}])
    member = Consumer({**pipeline_settings.kafka.client_config(), "group.id": "busy", "enable.auto.commit": False})
    try:
        member.subscribe([pipeline_settings.topics.listings])
        deadline = time.monotonic() + 30
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.5)
        assert member.assignment(), "the member must have joined for this test to mean anything"
        with pytest.raises(ReplayError, match="group 'busy' is in use"):
            run_replay(ReplayOptions(from_offsets="0:0", group="busy"), pipeline_settings, threading.Event())
    finally:
        member.close()


def test_timestamp_bounds_hold_on_every_broker(pipeline_settings: Settings) -> None:
    """Three waves a moment apart; the embedded broker answers offset 0 to every timestamp lookup."""
    marks = [iso_now_ms()]
    for wave in range(3):
        listings = [{"listing_id": f"w{wave}-{i}", "title": f"Kettle {wave} {i}"} for i in range(3 + wave)]
        publish(pipeline_settings, listings)
        time.sleep(1.2)
        marks.append(iso_now_ms())
    client, topic = pipeline_settings.kafka.client_config(), pipeline_settings.topics.listings

    def planned(start: str, end: str | None = None) -> int:
        with open_runtime(pipeline_settings) as runtime:
            consumer = runtime.consumer("plan-probe")
            try:
                to_ms = parse_timestamp_ms(end) if end else None
                from_ms = parse_timestamp_ms(start)
                ranges = plan_ranges(consumer, client, topic, from_timestamp_ms=from_ms, to_timestamp_ms=to_ms)
            finally:
                consumer.close()
        return sum(r.size for r in ranges)

    assert [planned(marks[1]), planned(marks[2]), planned(marks[3])] == [4 + 5, 5, 0]  # --from-timestamp alone
    assert [planned(marks[0], marks[1]), planned(marks[0], marks[2])] == [3, 3 + 4]  # --to-timestamp
    options = ReplayOptions(from_timestamp=marks[1], to_timestamp=marks[2])
    middle = run_replay(options, pipeline_settings, threading.Event())
    assert middle.processed == 4


def iso_now_ms() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
