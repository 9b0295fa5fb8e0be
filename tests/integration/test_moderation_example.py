"""examples/moderation_consumer.py against the real broker, for a bounded number of messages."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from stream.clusters.events import cause_of, parse_duplicate_event
from stream.clusters.graph import ClusterGraph
from stream.clusters.guard import Guard
from stream.events import DuplicateFound, SourcePosition, encode_event
from tests.integration.test_clusters import found, retracted, send
from tests.paths import REPO_ROOT
from tests.services import TEST_SESSION_TIMEOUT_MS, create_topic, produce

pytestmark = pytest.mark.integration
EXAMPLE = REPO_ROOT / "examples" / "moderation_consumer.py"


def cluster_events(duplicates: list[dict[str, Any]], guard: Guard) -> list[tuple[bytes, bytes]]:
    """What `dedup clusters` would send for these events (the same logic, in this process)."""
    graph, records = ClusterGraph({}, guard), []
    for offset, raw in enumerate(duplicates):
        event = parse_duplicate_event(orjson.dumps(raw))
        cause = cause_of(event, SourcePosition(topic="d", partition=0, offset=offset))
        if isinstance(event, DuplicateFound):
            updates = graph.found(cause, [(m.listing_id, m.score) for m in event.matches])
        else:
            updates = graph.retracted(cause, event.retracts_event_id, event.retracted_matches)
        records += [(update.cluster_id.encode(), encode_event(update)) for update in updates]
    return records


def test_the_example_prints_clusters_with_their_pairs_and_the_links_held_for_review(
    kafka_bootstrap: str, unique_name: Callable[[str], str]
) -> None:
    duplicates_topic, clusters_topic = unique_name("dups"), unique_name("clusters")
    for topic in (duplicates_topic, clusters_topic):
        create_topic(kafka_bootstrap, topic, partitions=2)
    duplicates = [
        found("b", ["a"], 1),
        found("c", ["a"], 2),
        found("d", ["a"], 3, score=0.8),  # a cluster of 4 needs 0.925 under this guard: held for review
        found("y", ["x"], 4),
        found("z", ["x"], 5),
        retracted("z", "found-z-5", ["x"], 6),  # z was deleted
    ]
    clusters = cluster_events(duplicates, Guard(free_size=3, base_score=0.9, max_size=10))
    send(kafka_bootstrap, duplicates_topic, duplicates)
    produce(kafka_bootstrap, clusters_topic, clusters)
    total = len(duplicates) + len(clusters)
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--bootstrap-servers", kafka_bootstrap, "--json",
         "--duplicates-topic", duplicates_topic, "--clusters-topic", clusters_topic,
         "--max-messages", str(total), "--idle-s", "30", "--session-timeout-ms", str(TEST_SESSION_TIMEOUT_MS)],
        capture_output=True, timeout=90, check=True,
    )  # fmt: skip
    report = orjson.loads(done.stdout)
    assert report["messages"] == total
    assert [(c["cluster_id"], c["members"]) for c in report["clusters"]] == [("a", ["a", "b", "c"]), ("x", ["x", "y"])]
    assert {(p["listing_id"], p["match_id"]) for p in report["clusters"][0]["pairs"]} == {("b", "a"), ("c", "a")}
    assert [(link["listing_id"], link["match_id"]) for link in report["review"]] == [("d", "a")]
    assert "needs a score of 0.9250" in report["review"][0]["reason"]
