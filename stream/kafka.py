"""Kafka clients: consumer and producer configuration, delivery checks, topic creation."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import NewTopic

from stream.broker import CONNECT_TIMEOUT_S, authorization_error, connect

log = logging.getLogger(__name__)


DEFAULT_MESSAGE_MAX_BYTES = 1_000_000  # librdkafka's default for message.max.bytes
# Refusals that retrying the same record can never turn into a delivery.
REJECTED_FOR_GOOD = frozenset({
    KafkaError.MSG_SIZE_TOO_LARGE,
    KafkaError.RECORD_LIST_TOO_LARGE,
    KafkaError.INVALID_RECORD,
    KafkaError.INVALID_MSG_SIZE,
    KafkaError.INVALID_MSG,
})


class DeliveryError(RuntimeError):
    """Events were not acknowledged by the broker; the batch is retried, offsets stay put."""


def consumer_config(client: dict[str, Any], group_id: str, session_timeout_ms: int) -> dict[str, Any]:
    return {
        **client,
        "group.id": group_id,
        # Offsets are committed by hand, only after Milvus and the events are durable.
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": session_timeout_ms,
        # librdkafka's default 3 s heartbeat outlives a session under 3 s: every commit then failed with
        # UNKNOWN_MEMBER_ID and the batch was retried forever. A third of the session, as Kafka advises.
        "heartbeat.interval.ms": client.get("heartbeat.interval.ms", min(3_000, session_timeout_ms // 3)),
        "partition.assignment.strategy": "cooperative-sticky",
    }


def producer_config(client: dict[str, Any]) -> dict[str, Any]:
    return {
        **client,
        # Idempotence: a retried send never writes an event twice into the log.
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        # No compression by default: tansu (the embedded broker) assigns offsets per compressed
        # batch, not per record. Against a real cluster set DEDUP_KAFKA_OPTIONS='{"compression.type": "lz4"}'.
    }


@dataclass
class EventProducer:
    """Produces and then waits for every delivery report; any failure raises DeliveryError."""

    producer: Producer
    flush_timeout_s: float = 30.0
    max_message_bytes: int = DEFAULT_MESSAGE_MAX_BYTES  # the producer's message.max.bytes
    _failures: list[str] = field(default_factory=list)
    _pending: int = 0

    @classmethod
    def create(cls, client: dict[str, Any]) -> EventProducer:
        config = producer_config(client)
        return cls(Producer(config), max_message_bytes=int(config.get("message.max.bytes", DEFAULT_MESSAGE_MAX_BYTES)))

    def send(
        self,
        topic: str,
        key: bytes | str | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]] | None = None,
        *,
        on_delivered: Callable[[], None] | None = None,
        on_rejected: Callable[[str], None] | None = None,
    ) -> None:
        """Queue one record. With ``on_rejected``, a refusal for good (too large, invalid) goes to it
        instead of failing the next ``flush``: the caller decides what else to send."""
        self._pending += 1
        on_delivery = functools.partial(self._on_delivery, on_delivered, on_rejected)
        while True:
            try:
                self.producer.produce(topic, value=value, key=key, headers=list(headers or []), on_delivery=on_delivery)
                return
            except BufferError:
                # Local queue full: serve delivery callbacks to make room instead of failing.
                self.producer.poll(0.1)
            except KafkaException as exc:
                self._pending -= 1
                if on_rejected is None or exc.args[0].code() not in REJECTED_FOR_GOOD:
                    raise
                on_rejected(exc.args[0].str())
                return

    def flush(self) -> None:
        """Block until the broker has acknowledged every event sent so far."""
        remaining = self.producer.flush(self.flush_timeout_s)
        failures, self._failures = self._failures, []
        pending, self._pending = self._pending, 0
        if remaining:
            raise DeliveryError(f"{remaining} of {pending} events not delivered within {self.flush_timeout_s}s")
        if failures:
            raise DeliveryError(f"{len(failures)} of {pending} events failed: {failures[0]}")

    def close(self) -> None:
        """Release the client now, not at garbage collection: a producer left alive after its broker
        stops keeps reconnecting and logging (e.g. when the embedded stack shuts down).

        Anything still undelivered (only after a failed ``flush``) is dropped first, since librdkafka's
        close waits for delivery without a deadline; its offsets were not committed, so it is produced
        again when the batch is reprocessed.
        """
        self.producer.purge()
        self.producer.close()

    def _on_delivery(
        self,
        on_delivered: Callable[[], None] | None,
        on_rejected: Callable[[str], None] | None,
        error: KafkaError | None,
        message: Message,
    ) -> None:
        self._pending -= 1
        if error is None:
            if on_delivered is not None:
                on_delivered()
        elif on_rejected is not None and error.code() in REJECTED_FOR_GOOD:
            on_rejected(error.str())
        else:
            self._failures.append(f"{message.topic()}: {error.str()}")


def ensure_topics(
    client: dict[str, Any],
    topics: Iterable[str],
    partitions: int,
    timeout_s: float = 15.0,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are.

    Every command's first contact with the broker: one that cannot be reached, or refuses our
    credentials, raises BrokerError (one line) within ``connect_timeout_s``.
    """
    admin, metadata = connect(client, connect_timeout_s)
    absent = [name for name in topics if name not in metadata.topics]
    missing = [NewTopic(name, num_partitions=partitions, replication_factor=-1) for name in absent]
    if not missing:
        return
    for topic, future in admin.create_topics(missing, operation_timeout=timeout_s).items():
        try:
            future.result()
            log.info("created topic %s with %d partitions", topic, partitions)
        except KafkaException as exc:
            error = exc.args[0]
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            refused = authorization_error(client, error, f"creating topic {topic}")
            if refused is None:
                raise
            raise refused from None


def topic_partitions(consumer: Consumer, topic: str, timeout_s: float = 10.0) -> list[int]:
    metadata = consumer.list_topics(topic, timeout=timeout_s)
    topic_metadata = metadata.topics.get(topic)
    if topic_metadata is None or topic_metadata.error is not None:
        reason = topic_metadata.error if topic_metadata is not None else "unknown topic"
        raise KafkaException(f"topic {topic!r} is not available: {reason}")
    return sorted(topic_metadata.partitions)


def end_offsets(
    client: dict[str, Any], topic: str, partitions: Sequence[int], timeout_s: float = 10.0
) -> dict[int, int]:
    """The offset after the last record of each partition.

    The high watermark alone is not enough: tansu, the embedded broker, reports the last record
    *batch's* base offset + 1. Reading from ``high - 1`` returns that whole batch (one record on
    a real Kafka cluster), and the last offset seen + 1 is the true end on both.
    """
    probe = Consumer(
        {**client, "group.id": "dedup-end-probe", "enable.auto.commit": False, "enable.partition.eof": True}
    )
    try:
        bounds = {p: probe.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s) for p in partitions}
        ends = {p: high for p, (_low, high) in bounds.items()}
        pending = {p for p, (low, high) in bounds.items() if high > low}
        probe.assign([TopicPartition(topic, p, bounds[p][1] - 1) for p in pending])
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for message in probe.consume(num_messages=1_000, timeout=0.5):
                partition = message.partition()
                error = message.error()
                if error is not None and error.code() == KafkaError._PARTITION_EOF:
                    pending.discard(partition)
                elif error is None:
                    ends[partition] = max(ends[partition], message.offset() + 1)
        return ends
    finally:
        probe.close()


def read_topic(client: dict[str, Any], topic: str, *, timeout_s: float = 30.0) -> list[Message]:
    """Every message currently in ``topic``, from the beginning to the ends seen now (no group commit)."""
    consumer = Consumer({**client, "group.id": "dedup-reader", "enable.auto.commit": False})
    try:
        partitions = topic_partitions(consumer, topic, timeout_s)
        lows = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout_s)[0] for p in partitions}
        ends = end_offsets(client, topic, partitions, timeout_s)
        wanted = {p: (lows[p], ends[p]) for p in partitions if ends[p] > lows[p]}
        consumer.assign([TopicPartition(topic, p, low) for p, (low, _high) in wanted.items()])
        messages: list[Message] = []
        positions = {p: low for p, (low, _high) in wanted.items()}
        deadline = time.monotonic() + timeout_s
        while any(positions[p] < wanted[p][1] for p in wanted) and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=500, timeout=1.0):
                if message.error() is None and message.offset() < wanted[message.partition()][1]:
                    messages.append(message)
                    positions[message.partition()] = message.offset() + 1
        return messages
    finally:
        consumer.close()
