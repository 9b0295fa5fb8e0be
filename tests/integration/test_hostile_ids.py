"""Listing ids with quotes and backslashes reach Milvus filters escaped: nothing stops, nothing is lost."""

from __future__ import annotations

import pytest

from decider.bundle import ModelBundle
from stream.settings import Settings
from stream.worker.runtime import open_runtime
from tests.streaming import duplicate_events, found_pairs, publish

pytestmark = pytest.mark.integration

# Control characters too: Milvus refuses JSON's \b and \uXXXX escapes (a backspace once stopped the worker).
HOSTILE_IDS = [
    "o'brien-1", "o'brien-2", 'back\\slash"quote', "x') or true or ('", "tab\there", "ünï-çødé'",
    "bell\a-back\bspace", "new\nline\x00nul\u2028",
]


def test_ids_with_quotes_and_backslashes_are_stored_matched_and_reprocessed(
    pipeline_settings: Settings, baseline_model: ModelBundle
) -> None:
    titles = ["Sony Bravia 55 inch 4K TV KD-55X80L"] * 2 + [f"Logitech MX Master {i} mouse" for i in range(6)]
    listings = [
        {"listing_id": listing_id, "title": title, "created_at": f"2026-01-01T00:00:0{i}Z"}
        for i, (listing_id, title) in enumerate(zip(HOSTILE_IDS, titles, strict=True))
    ]
    publish(pipeline_settings, listings)
    with open_runtime(pipeline_settings, baseline_model) as runtime:
        metrics = runtime.worker().run(max_events=len(listings), until_idle=15)
        stored = runtime.store.count()
        first_seen = runtime.store.first_seen(HOSTILE_IDS)
    assert metrics.processed == len(listings) and metrics.dead_lettered == 0 and metrics.retries == 0
    assert stored == len(listings) and set(first_seen) == set(HOSTILE_IDS)
    assert frozenset(HOSTILE_IDS[:2]) in found_pairs(duplicate_events(pipeline_settings))
