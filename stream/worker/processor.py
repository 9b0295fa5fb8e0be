"""Steps 1-3 of the commit order for one batch: parse, run the pipeline, deliver and flush.

Shared by the live worker and replay; committing (step 4) is the caller's job.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from confluent_kafka import Message

from stream.events import DeadLetter, InvalidEvent, SourcePosition, encode_event, parse_listing
from stream.kafka import EventProducer
from stream.worker.batching import PartitionKey, first_offsets, next_offsets
from stream.worker.incoming import Incoming
from stream.worker.pipeline import DedupPipeline


@dataclass(frozen=True)
class ProcessedBatch:
    """A batch after steps 1-3: what came of its messages and the offsets to commit for it."""

    processed: int
    dead_lettered: int
    duplicates: int
    first_offsets: dict[PartitionKey, int]
    next_offsets: dict[PartitionKey, int]
    stage_seconds: dict[str, float] = field(default_factory=dict)
    photos: dict[str, int] = field(default_factory=dict)  # "loaded" or the failure reason -> count


class BatchProcessor:
    """Steps 1-3 of the commit order for one batch; shared by the live worker and replay."""

    def __init__(
        self,
        pipeline: DedupPipeline,
        producer: EventProducer,
        *,
        duplicates_topic: str,
        dlq_topic: str,
        max_title_chars: int,
    ) -> None:
        self.pipeline = pipeline
        self.producer = producer
        self.duplicates_topic = duplicates_topic
        self.dlq_topic = dlq_topic
        self.max_title_chars = max_title_chars

    def process(self, messages: Sequence[Message]) -> ProcessedBatch:
        incoming, dead_letters = self.parse(messages)
        report = self.pipeline.process(incoming)
        for letter in dead_letters:
            self.producer.send(self.dlq_topic, letter.key, letter.value, letter.headers())
        with report.timed("deliver"):
            for event in report.duplicates:
                self.producer.send(self.duplicates_topic, event.listing_id, encode_event(event))
            self.producer.flush()
        return ProcessedBatch(
            processed=len(incoming),
            dead_lettered=len(dead_letters),
            duplicates=len(report.duplicates),
            first_offsets=first_offsets(messages),
            next_offsets=next_offsets(messages),
            stage_seconds=report.stage_seconds,
            photos=_photo_outcomes(report.photos_loaded, report.photo_failures),
        )

    def parse(self, messages: Sequence[Message]) -> tuple[list[Incoming], list[DeadLetter]]:
        incoming: list[Incoming] = []
        dead_letters: list[DeadLetter] = []
        for message in messages:
            source = SourcePosition(topic=message.topic(), partition=message.partition(), offset=message.offset())
            try:
                listing = parse_listing(message.value(), max_title_chars=self.max_title_chars)
            except InvalidEvent as exc:
                dead_letters.append(DeadLetter(message.key(), message.value(), str(exc), source))
                continue
            incoming.append(Incoming(listing=listing, source=source, timestamp_ms=message_timestamp_ms(message)))
        return incoming, dead_letters


def _photo_outcomes(loaded: int, failures: dict[str, int]) -> dict[str, int]:
    return {**({"loaded": loaded} if loaded else {}), **failures}


def message_timestamp_ms(message: Message) -> int:
    _kind, timestamp = message.timestamp()
    return timestamp if timestamp and timestamp > 0 else int(time.time() * 1000)
