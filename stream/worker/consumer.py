"""What the live worker and replay share: a Kafka consumer read in micro-batches into a processor."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, Message

from stream.worker.batching import MicroBatcher

if TYPE_CHECKING:  # the processor pulls in the model (torch); replay's planning and errors must not
    from stream.worker.processor import BatchProcessor


class BatchConsumer:
    """Reads micro-batches from ``consumer``; subclasses decide what is assigned and what is committed."""

    def __init__(
        self,
        consumer: Consumer,
        processor: BatchProcessor,
        *,
        topic: str,
        batcher: MicroBatcher,
        stop: threading.Event | None = None,
    ) -> None:
        self.consumer = consumer
        self.processor = processor
        self.topic = topic
        self.batcher = batcher
        self.stop = stop or threading.Event()

    def next_batch(self, limit: int | None = None, *, wait: bool = True) -> list[Message]:
        """Up to the batcher's size (or ``limit``) messages: what is at hand once the first arrived (within the
        batcher's timeout; without ``wait``, only what is at hand now)."""
        return self.batcher.collect(self._consume, limit, wait=wait)

    def _consume(self, count: int, timeout_s: float) -> list[Message]:
        return self.consumer.consume(num_messages=count, timeout=timeout_s)
