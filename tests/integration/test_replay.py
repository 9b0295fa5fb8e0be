"""Replay re-emits the same events for a range and never touches the live group's offsets."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from decider.bundle import ModelBundle
from decider.synthetic.generator import generate_catalog
from stream.commands.options import ReplayOptions
from stream.commands.replay import run_replay
from stream.replay import ReplayError, plan_ranges
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
    tail = run_replay(
        ReplayOptions(from_offsets=f"{partition}:{ends[partition] - 2}", group="backfill-1"), pipeline_settings, threading.Event()
    )
    assert tail.processed == 2
    committed, _ = committed_and_ends(pipeline_settings, group_id="backfill-1")
    assert committed[partition] == ends[partition]
    assert len(duplicate_events(pipeline_settings)) <= len(original) + 2


def test_replay_refuses_the_live_group_and_unknown_partitions(
    pipeline_settings: Settings, processed_catalog: tuple[int, list[dict]]
) -> None:
    with pytest.raises(ReplayError, match="must differ from the live group"):
        run_replay(ReplayOptions(from_offsets="0:0", group=pipeline_settings.kafka.group_id), pipeline_settings, threading.Event())
    with open_runtime(pipeline_settings) as runtime:
        consumer = runtime.consumer("probe")
        try:
            with pytest.raises(ReplayError, match="not \\[99\\]"):
                plan_ranges(consumer, pipeline_settings.kafka.client_config(), pipeline_settings.topics.listings, from_offsets={99: 0})
        finally:
            consumer.close()
