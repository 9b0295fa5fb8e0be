"""Reindex from the listings topic: replay it from the beginning into the new collection, emitting nothing.

The replay machinery of ``dedup replay`` (assigned partitions, fixed ranges, no group commits) runs
the worker's own pipeline with the new model, so photos are read again and match groups are formed
by the new model. Nothing is produced: duplicate-found events and dead letters were sent when the
listings first came. Each listing keeps the first-seen time the old collection holds for it, so
"earlier than me" means after the reindex what it meant before.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, cast

from confluent_kafka import Consumer

from decider.bundle import ModelBundle
from infra.milvus.store import ListingStore
from stream.kafka import DEFAULT_MESSAGE_MAX_BYTES, EventProducer, consumer_config, topic_partitions
from stream.replay import PartitionRange, Replayer, plan_ranges
from stream.settings import Settings
from stream.worker.batching import MicroBatcher
from stream.worker.incoming import Incoming
from stream.worker.pipeline import DedupPipeline
from stream.worker.processor import BatchProcessor
from stream.worker.runtime import _photo_step  # the worker's own photo settings, not a copy of them


class SilentProducer:
    """Accepts what the processor would send and sends nothing (the events went out the first time)."""

    max_message_bytes = DEFAULT_MESSAGE_MAX_BYTES

    def send(self, *_args: Any, on_delivered: Callable[[], None] | None = None, **_kwargs: Any) -> None:
        if on_delivered is not None:
            on_delivered()  # a dead letter counts as settled

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


class CarriedFirstSeenPipeline(DedupPipeline):
    """The worker's pipeline, with each listing new to the new collection given the first-seen time the
    old collection holds for it (now only where it has none)."""

    NEW = -1  # what the clock answers while first-seen times are looked up: "not stored here yet"

    def __init__(self, *args: Any, earlier: ListingStore, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.earlier = earlier

    def _first_seen(self, items: Sequence[Incoming], *args: Any, **kwargs: Any) -> list[int]:
        clock, self.clock_ms = self.clock_ms, lambda: self.NEW
        try:
            seen = super()._first_seen(items, *args, **kwargs)
        finally:
            self.clock_ms = clock
        fresh = [item.listing.listing_id for item, at in zip(items, seen, strict=True) if at == self.NEW]
        carried = self.earlier.first_seen(fresh)
        now = self.clock_ms()
        ids = [item.listing.listing_id for item in items]
        return [carried.get(key, now) if at == self.NEW else at for key, at in zip(ids, seen, strict=True)]


class TopicCopy:
    """Replays the topic into the new collection: everything up to now, then what came since, and so on."""

    def __init__(
        self,
        settings: Settings,
        old: ListingStore,
        new: ListingStore,
        model: ModelBundle,
        *,
        stop: threading.Event | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.stop = stop or threading.Event()
        self.on_progress = on_progress or (lambda _n: None)
        self.processor = silent_processor(settings, old, new, model)
        self._next: dict[int, int] = {}  # partition -> where the next pass starts

    def first_pass(self) -> int:
        return self._replay(from_start=True)

    def catch_up(self) -> int:
        return self._replay(from_start=False)

    def _replay(self, *, from_start: bool) -> int:
        kafka, topic = self.settings.kafka, self.settings.topics.listings
        client = kafka.client_config()
        group = f"{kafka.group_id}-reindex-{uuid.uuid4().hex[:8]}"  # never committed: assigned partitions
        consumer = Consumer(consumer_config(client, group, kafka.session_timeout_ms))
        try:
            if from_start:
                self._next = dict.fromkeys(topic_partitions(consumer, topic), 0)
            ranges = plan_ranges(consumer, client, topic, from_offsets=self._next)
        except BaseException:
            consumer.close()  # the Replayer closes it otherwise
            raise
        worker = self.settings.worker
        batcher = MicroBatcher(worker.batch_max_size, worker.batch_timeout_s, linger_s=worker.batch_timeout_s)  # fill
        replayer = Replayer(
            consumer, self.processor, topic=topic, batcher=batcher, commit=False, stop=self.stop,
            on_progress=self.on_progress,
        )
        result = replayer.run(ranges)
        self._advance(ranges)
        return result.processed

    def close(self) -> None:
        if self.processor.pipeline.photos is not None:
            self.processor.pipeline.photos.close()

    def _advance(self, ranges: Sequence[PartitionRange]) -> None:
        self._next.update({r.partition: r.end for r in ranges})


def silent_processor(settings: Settings, old: ListingStore, new: ListingStore, model: ModelBundle) -> BatchProcessor:
    """The worker's processor writing ``new`` with ``model``, sending no event and no dead letter."""
    milvus = settings.milvus
    pipeline = CarriedFirstSeenPipeline(
        model,
        new,
        None,  # no Redis cache: each listing is encoded once here anyway
        candidates=milvus.candidates,
        group_candidates=milvus.group_candidates,
        lexical_candidates=milvus.lexical_candidates if new.lexical else 0,
        photos=_photo_step(settings, model),
        photo_candidates=settings.photos.candidates if model.images is not None else 0,
        earlier=old,
    )
    return BatchProcessor(
        pipeline,
        cast(EventProducer, SilentProducer()),
        duplicates_topic=settings.topics.duplicates,
        dlq_topic=settings.topics.dlq,
        max_title_chars=settings.worker.max_title_chars,
    )
