"""Reaching the Kafka broker: librdkafka's logs through ours, and one line saying why it cannot be reached.

librdkafka retries a broker it cannot reach without end, printing every attempt to stderr (hundreds of
lines), and a request ends, if ever, in "Broker transport failure". So every client logs through the
``librdkafka`` logger, shown only at DEBUG (``-v``), and the first contact of a command waits a bounded
time for the broker, watching the errors librdkafka reports: an operator reads one line naming the
cause (refused, unresolvable, no answer, authentication) and the settings to check, never a secret.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ClusterMetadata

LIBRDKAFKA_LOGGER = "librdkafka"
CONNECT_TIMEOUT_S = 10.0
PROBE_S = 1.0  # one metadata request; repeated until the deadline, so a broker that starts late still counts

AUTHENTICATION_CODES = frozenset({KafkaError._AUTHENTICATION, KafkaError.SASL_AUTHENTICATION_FAILED})
TLS_CODES = frozenset({KafkaError._SSL})
NOT_KAFKA_CODES = frozenset({KafkaError._BAD_MSG})  # it answered, but not in Kafka's protocol
AUTHORIZATION_CODES = frozenset({
    KafkaError.TOPIC_AUTHORIZATION_FAILED,
    KafkaError.GROUP_AUTHORIZATION_FAILED,
    KafkaError.CLUSTER_AUTHORIZATION_FAILED,
})
SASL_SETTINGS = (
    "DEDUP_KAFKA_SECURITY_PROTOCOL, DEDUP_KAFKA_SASL_MECHANISM, DEDUP_KAFKA_SASL_USERNAME and DEDUP_KAFKA_SASL_PASSWORD"
)
TLS_SETTINGS = "DEDUP_KAFKA_SECURITY_PROTOCOL and DEDUP_KAFKA_SSL_CA_LOCATION"
# "host:port/bootstrap: " before, " (after 0ms in state CONNECT)" after the reason librdkafka gives.
_BROKER_PREFIX = re.compile(r"^\S+/(?:bootstrap|-?\d+): ")
_STATE_SUFFIX = re.compile(r"\s*\(after \d+ms in state \w+(?:, \d+ identical error\(s\) suppressed)?\)$")
_CONNECT_FAILED = re.compile(r"^Connect to \S+ failed: ")


class BrokerError(KafkaException):
    """The broker cannot be used as configured; ``str()`` is the one line for the operator.

    A KafkaException (whose ``args[0]`` is a real KafkaError) so that ``dedup`` reports it like any
    other Kafka failure, and code reading ``.args[0].code()`` keeps working.
    """

    def __init__(self, message: str, code: int = KafkaError._TRANSPORT) -> None:
        super().__init__(KafkaError(code, message))

    def __str__(self) -> str:
        return str(self.args[0].str())


class _QuietUnlessDebug(logging.Filter):
    """librdkafka's lines pass only when the process logs at DEBUG (``--log-level DEBUG`` or ``-v``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def librdkafka_logger() -> logging.Logger:
    """The logger every client gets as its ``logger`` setting (instead of librdkafka printing to stderr)."""
    logger = logging.getLogger(LIBRDKAFKA_LOGGER)
    if not any(isinstance(existing, _QuietUnlessDebug) for existing in logger.filters):
        logger.addFilter(_QuietUnlessDebug())
    return logger


@dataclass
class ErrorWatch:
    """Collects the errors librdkafka reports through ``error_cb`` (served by the client's poll)."""

    errors: list[KafkaError] = field(default_factory=list)

    def __call__(self, error: KafkaError) -> None:
        self.errors.append(error)

    def authentication(self) -> KafkaError | None:
        return next((error for error in self.errors if error.code() in AUTHENTICATION_CODES | TLS_CODES), None)


def connect(client: dict[str, Any], timeout_s: float = CONNECT_TIMEOUT_S) -> tuple[AdminClient, ClusterMetadata]:
    """An admin client and the cluster's metadata, or BrokerError after at most ``timeout_s``.

    An authentication failure ends the wait at once: retrying cannot fix credentials.
    """
    watch = ErrorWatch()
    admin = AdminClient({**client, "error_cb": watch})
    deadline = time.monotonic() + timeout_s
    while True:
        started = time.monotonic()
        remaining = deadline - started
        try:
            return admin, admin.list_topics(timeout=max(min(PROBE_S, remaining), 0.1))
        except KafkaException as exc:
            failure = exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None
            admin.poll(0)  # serves error_cb with what librdkafka saw meanwhile
            if watch.authentication() is not None or remaining <= PROBE_S:
                raise broker_error(client, watch.errors, timeout_s, failure) from None
            time.sleep(max(0.1 - (time.monotonic() - started), 0.0))  # a request that failed at once: no busy loop


def broker_error(
    client: dict[str, Any], errors: Sequence[KafkaError], timeout_s: float, failure: KafkaError | None = None
) -> BrokerError:
    """The one line for what ``errors`` (librdkafka's, oldest first) say about the broker."""
    bootstrap = client.get("bootstrap.servers", "?")
    auth = next((error for error in errors if error.code() in AUTHENTICATION_CODES), None)
    if auth is not None:
        return BrokerError(
            f"authentication with the Kafka broker at {bootstrap} failed ({reason(auth)}); check {SASL_SETTINGS}",
            KafkaError._AUTHENTICATION,
        )
    tls = next((error for error in errors if error.code() in TLS_CODES), None)
    if tls is not None:
        return BrokerError(
            f"the TLS handshake with the Kafka broker at {bootstrap} failed, so it cannot authenticate"
            f" ({reason(tls)}); check {TLS_SETTINGS}",
            KafkaError._SSL,
        )
    if any(error.code() in NOT_KAFKA_CODES for error in errors):
        return BrokerError(
            f"the server at {bootstrap} does not answer as a Kafka broker; check DEDUP_KAFKA_BOOTSTRAP_SERVERS"
            " and DEDUP_KAFKA_SECURITY_PROTOCOL"
        )
    return BrokerError(
        f"cannot reach the Kafka broker at {bootstrap} ({unreachable_reason(errors, failure)}) within {timeout_s:g} s;"
        f" check DEDUP_KAFKA_BOOTSTRAP_SERVERS{unreachable_hint(client)}"
    )


def unreachable_reason(errors: Sequence[KafkaError], failure: KafkaError | None) -> str:
    """The latest transport-level cause (refused, unresolvable, timed out), else that nothing answered."""
    causes = [error for error in errors if error.code() != KafkaError._ALL_BROKERS_DOWN]
    if causes:
        return reason(causes[-1])
    if failure is not None and failure.code() not in (KafkaError._TRANSPORT, KafkaError._TIMED_OUT):
        return reason(failure)
    return "no answer"


def unreachable_hint(client: dict[str, Any]) -> str:
    """A TLS client talking to a plaintext listener waits for a handshake that never comes."""
    protocol = str(client.get("security.protocol", "PLAINTEXT")).upper()
    return "" if protocol == "PLAINTEXT" else " and DEDUP_KAFKA_SECURITY_PROTOCOL"


def reason(error: KafkaError) -> str:
    """librdkafka's message without the broker prefix and state suffix: "connection refused"."""
    text = _STATE_SUFFIX.sub("", _BROKER_PREFIX.sub("", str(error.str()).strip()))
    text = _CONNECT_FAILED.sub("", text)
    if not text:
        return str(error.name())
    return text[:1].lower() + text[1:] if text[1:2].islower() else text  # "connection refused", "SASL ..."


def authorization_error(client: dict[str, Any], error: KafkaError, what: str) -> BrokerError | None:
    """One line for a broker that authenticated us but refuses ``what`` (None for other errors)."""
    if error.code() not in AUTHORIZATION_CODES:
        return None
    return BrokerError(
        f"the Kafka broker at {client.get('bootstrap.servers', '?')} does not allow {what} ({reason(error)});"
        " check the ACLs of DEDUP_KAFKA_SASL_USERNAME",
        error.code(),
    )
