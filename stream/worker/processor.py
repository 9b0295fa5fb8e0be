"""Steps 1-3 of the commit order for one batch: parse, run the pipeline, deliver and flush.

Shared by the live worker and replay; committing (step 4) is the caller's job. ``prepare`` (parse and
vectors, no store) and ``finish`` (Milvus, events, dead letters) are apart so that the live worker can
prepare the next batch while it finishes this one; ``process`` is both, one after the other.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from confluent_kafka import Message

from stream.events import (
    EVENT_TYPE_HEADER,
    DeadLetter,
    DuplicateFound,
    DuplicateRetracted,
    InvalidEvent,
    ListingDeleted,
    SourcePosition,
    encode_event,
    parse_listing_event,
)
from stream.kafka import EventProducer
from stream.worker.batching import PartitionKey, first_offsets, next_offsets
from stream.worker.incoming import Incoming
from stream.worker.lifecycle import Deletion
from stream.worker.pipeline import DedupPipeline
from stream.worker.prepare import PreparedListings

log = logging.getLogger(__name__)
Position = tuple[str, int, int]  # topic, partition, offset of the source record


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
    updates: int = 0  # listing-updated events processed (counted in ``processed`` too)
    deletes: int = 0  # listing-deleted events processed (counted in ``processed`` too)
    retractions: int = 0  # duplicate-retracted events delivered


@dataclass
class PreparedBatch:
    """A batch after parsing and encoding: nothing of it is in Milvus or Kafka yet."""

    messages: Sequence[Message]
    dead_letters: list[DeadLetter]
    processed: int  # valid events (listings and deletions)
    listings: PreparedListings


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
        self.dead_letters = DeadLetterSender(producer, dlq_topic)

    def process(self, messages: Sequence[Message]) -> ProcessedBatch:
        return self.finish(self.prepare(messages))

    def prepare(self, messages: Sequence[Message]) -> PreparedBatch:
        incoming, dead_letters = self.parse(messages)
        return PreparedBatch(messages, dead_letters, len(incoming), self.pipeline.prepare(incoming))

    def finish(self, batch: PreparedBatch) -> ProcessedBatch:
        messages = batch.messages
        report = self.pipeline.finish(batch.listings, deliver=self.deliver)
        with report.timed("deliver"):
            self.dead_letters.send(batch.dead_letters, messages)
            self.producer.flush()
            if self.dead_letters.resend_refused():
                self.producer.flush()
        return ProcessedBatch(
            processed=batch.processed,
            dead_lettered=len(batch.dead_letters),
            duplicates=len(report.duplicates),
            updates=report.updates,
            deletes=report.deletes,
            retractions=len(report.retractions),
            first_offsets=first_offsets(messages),
            next_offsets=next_offsets(messages),
            stage_seconds=report.stage_seconds,
            photos=_photo_outcomes(report.photos_loaded, report.photo_failures),
        )

    def deliver(self, events: Sequence[DuplicateFound | DuplicateRetracted]) -> None:
        """Sends the events, keyed by their listing (a retraction follows the event it retracts in its
        partition), and waits for every delivery report: the pipeline changes Milvus only after."""
        for event in events:
            headers = [(EVENT_TYPE_HEADER, event.event_type.encode())]
            self.producer.send(self.duplicates_topic, event.listing_id, encode_event(event), headers)
        self.producer.flush()

    def parse(self, messages: Sequence[Message]) -> tuple[list[Incoming | Deletion], list[DeadLetter]]:
        incoming: list[Incoming | Deletion] = []
        dead_letters: list[DeadLetter] = []
        for message in messages:
            source = SourcePosition(topic=message.topic(), partition=message.partition(), offset=message.offset())
            try:
                event = parse_listing_event(message.value(), max_title_chars=self.max_title_chars)
            except InvalidEvent as exc:
                dead_letters.append(DeadLetter(message.key(), message.value(), str(exc), source))
                continue
            if isinstance(event, ListingDeleted):
                incoming.append(Deletion(listing_id=event.listing_id, source=source))
            else:
                incoming.append(Incoming(listing=event, source=source, timestamp_ms=message_timestamp_ms(message)))
        return incoming, dead_letters


class DeadLetterSender:
    """Sends each dead letter once per source offset, cut to fit the producer's limit, never blocking.

    A batch that is retried (a duplicate-found event undelivered) skips the letters the broker
    already acknowledged. A letter the broker refuses for good goes out again without its value;
    refused again, it is logged and dropped rather than retried forever.
    """

    def __init__(self, producer: EventProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        # Acknowledged or dropped; only this batch's offsets are kept, so it stays bounded.
        self._settled: set[Position] = set()
        self._refused: list[DeadLetter] = []

    def send(self, letters: Sequence[DeadLetter], messages: Sequence[Message]) -> None:
        self._settled &= {(m.topic(), m.partition(), m.offset()) for m in messages}
        self._refused = []
        for letter in letters:
            if _position(letter) not in self._settled:
                self._send(letter.fitted(self.producer.max_message_bytes), last_try=False)

    def resend_refused(self) -> bool:
        """Sends the refused letters again, valueless; True when there were any (flush again)."""
        refused, self._refused = self._refused, []
        for letter in refused:
            self._send(letter.truncated(), last_try=True)
        return bool(refused)

    def _send(self, letter: DeadLetter, *, last_try: bool) -> None:
        self.producer.send(
            self.topic,
            letter.key,
            letter.value,
            letter.headers(),
            on_delivered=functools.partial(self._settled.add, _position(letter)),
            on_rejected=functools.partial(self._rejected, letter, last_try),
        )

    def _rejected(self, letter: DeadLetter, last_try: bool, reason: str) -> None:
        if not last_try:
            self._refused.append(letter)
            return
        source = letter.source
        log.error("dead letter for %s[%d]@%d dropped: %s", source.topic, source.partition, source.offset, reason)
        self._settled.add(_position(letter))


def _position(letter: DeadLetter) -> Position:
    return letter.source.topic, letter.source.partition, letter.source.offset


def _photo_outcomes(loaded: int, failures: dict[str, int]) -> dict[str, int]:
    return {**({"loaded": loaded} if loaded else {}), **failures}


def message_timestamp_ms(message: Message) -> int:
    _kind, timestamp = message.timestamp()
    return timestamp if timestamp and timestamp > 0 else int(time.time() * 1000)
