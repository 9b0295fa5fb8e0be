"""``dedup publish``: a JSONL file -> listing-created, -updated and -deleted events (by ``op``), keyed by listing_id."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stream.events import InvalidEvent, parse_listing_event
from stream.kafka import EventProducer, ensure_topics
from stream.settings import Settings


@dataclass
class PublishReport:
    published: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)


def publish_file(settings: Settings, path: Path, *, all_or_nothing: bool = False) -> PublishReport:
    """Validates every line first, then publishes the valid ones (none at all with ``all_or_nothing`` when
    any is invalid); invalid lines are reported, never sent."""
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    report = PublishReport()
    valid: list[tuple[str, bytes]] = []
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            value = line.strip()
            if not value:
                continue
            try:
                event = parse_listing_event(value, max_title_chars=settings.worker.max_title_chars)
            except InvalidEvent as exc:
                report.invalid.append((number, str(exc)))
                continue
            valid.append((event.listing_id, value))
    if all_or_nothing and report.invalid:
        return report
    publish_values(settings, valid)
    report.published = len(valid)
    return report


def publish_values(settings: Settings, keyed_values: list[tuple[str, bytes]]) -> None:
    client = settings.kafka.client_config()
    topics = settings.topics
    ensure_topics(client, [topics.listings], topics.partitions)
    producer = EventProducer.create(client)
    try:
        for key, value in keyed_values:
            producer.send(topics.listings, key, value)
        producer.flush()
    finally:
        producer.close()
