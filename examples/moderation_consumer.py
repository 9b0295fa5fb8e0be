"""An example moderation consumer: reads duplicate-found / duplicate-retracted and cluster-updated events and
prints a review queue (largest clusters first, each with its pairs and scores, then the links routed to review).

Standalone on purpose (confluent-kafka and the standard library): it reads the events as the README documents
them, as a moderation service of your own would. Run it beside `dedup run` and `dedup clusters`:

    python examples/moderation_consumer.py --bootstrap-servers 127.0.0.1:19092 --max-messages 1000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError


@dataclass
class ReviewQueue:
    """What moderation sees: the standing pairs, the clusters' latest state, the links held for review."""

    pairs: dict[tuple[str, str], float] = field(default_factory=dict)  # (listing, earlier match) -> score
    events: dict[str, str] = field(default_factory=dict)  # listing -> its standing duplicate-found event
    clusters: dict[str, list[str]] = field(default_factory=dict)  # cluster id -> members, earliest first
    review: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def apply(self, event: dict[str, Any]) -> None:
        kind = event.get("event_type")
        if kind == "duplicate-found":
            listing = event["listing_id"]
            self.pairs = {pair: s for pair, s in self.pairs.items() if pair[0] != listing}  # the latest event wins
            self.events[listing] = event["event_id"]
            for match in event["matches"]:
                self.pairs[(listing, match["listing_id"])] = match["score"]
        elif kind == "duplicate-retracted":
            if self.events.get(event["listing_id"]) == event["retracts_event_id"]:
                for match_id in event["retracted_matches"]:
                    self.pairs.pop((event["listing_id"], match_id), None)
                    self.review.pop((event["listing_id"], match_id), None)
        elif kind == "cluster-updated":
            if event["members"]:
                self.clusters[event["cluster_id"]] = event["members"]
            else:  # absorbed or dissolved
                self.clusters.pop(event["cluster_id"], None)
            for link in event["review"]:
                self.review[(link["listing_id"], link["match_id"])] = link

    def report(self) -> dict[str, Any]:
        clusters = []
        for cluster_id, members in sorted(self.clusters.items(), key=lambda item: (-len(item[1]), item[0])):
            inside = set(members)
            pairs = [
                {"listing_id": a, "match_id": b, "score": score}
                for (a, b), score in sorted(self.pairs.items())
                if a in inside and b in inside
            ]
            clusters.append({"cluster_id": cluster_id, "members": members, "pairs": pairs})
        standing = [link for key, link in sorted(self.review.items()) if key in self.pairs]
        return {"clusters": clusters, "review": standing}


def print_report(report: dict[str, Any]) -> None:
    print(f"review queue: {len(report['clusters'])} clusters, {len(report['review'])} links held for review")
    for cluster in report["clusters"]:
        print(f"cluster {cluster['cluster_id']} ({len(cluster['members'])} listings): {', '.join(cluster['members'])}")
        for pair in cluster["pairs"]:
            print(f"  {pair['listing_id']} ~ {pair['match_id']}  score {pair['score']:.3f}")
    for link in report["review"]:
        print(f"review: {link['listing_id']} ~ {link['match_id']}  score {link['score']:.3f}: {link['reason']}")


def consume(args: argparse.Namespace) -> tuple[ReviewQueue, int]:
    """Reads both topics from the start until ``max_messages`` or ``idle_s`` without a message."""
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap_servers,
        "group.id": args.group or f"moderation-example-{uuid.uuid4().hex[:8]}",
        "auto.offset.reset": "earliest",
        "enable.auto.commit": True,
        "session.timeout.ms": args.session_timeout_ms,
    })  # fmt: skip
    queue, count, last = ReviewQueue(), 0, time.monotonic()
    try:
        consumer.subscribe([args.duplicates_topic, args.clusters_topic])
        while count < args.max_messages and time.monotonic() - last < args.idle_s:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error() is not None:
                if message.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise SystemExit(f"moderation example: {message.error()}")
            last, count = time.monotonic(), count + 1
            try:
                queue.apply(json.loads(message.value()))
            except (ValueError, KeyError, TypeError) as exc:  # not an event of ours: skip it, say so
                print(f"skipped {message.topic()}[{message.partition()}]@{message.offset()}: {exc}", file=sys.stderr)
    finally:
        consumer.close()
    return queue, count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", default="127.0.0.1:19092")
    parser.add_argument("--duplicates-topic", default="listings.duplicates")
    parser.add_argument("--clusters-topic", default="listings.clusters")
    parser.add_argument("--group", default=None, help="consumer group (default: a fresh one, reading from the start)")
    parser.add_argument("--max-messages", type=int, default=10_000, help="stop after this many messages")
    parser.add_argument("--idle-s", type=float, default=10.0, help="stop after this long without a message")
    parser.add_argument("--session-timeout-ms", type=int, default=10_000)
    parser.add_argument("--json", action="store_true", help="print the queue as one JSON object")
    args = parser.parse_args(argv)
    queue, count = consume(args)
    report = {"messages": count, **queue.report()}
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
