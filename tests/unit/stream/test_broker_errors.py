"""One line for a broker that cannot be used: librdkafka's errors classified, its logs quiet unless DEBUG.

The error texts are librdkafka 2.x's own, as seen against a closed port, an unknown host, a tansu broker
refusing SASL, and a server that is not Kafka (tests/integration/test_cli_errors.py runs the real ones).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from confluent_kafka import KafkaError, KafkaException

from infra.stack.services import free_port
from stream.broker import LIBRDKAFKA_LOGGER, BrokerError, authorization_error, broker_error, connect, reason
from stream.settings import KafkaSettings

CLIENT = {"bootstrap.servers": "kafka-1:9093", "security.protocol": "PLAINTEXT"}
REFUSED = KafkaError(
    KafkaError._TRANSPORT,
    "kafka-1:9093/bootstrap: Connect to ipv4#10.0.0.7:9093 failed: Connection refused (after 0ms in state CONNECT)",
)
ALL_DOWN = KafkaError(KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down")
SASL_REFUSED = KafkaError(
    KafkaError._AUTHENTICATION,
    "sasl_ssl://kafka-1:9093/bootstrap: SASL authentication error: Authentication failed during authentication due"
    " to invalid credentials with SASL mechanism SCRAM-SHA-512 (after 312ms in state AUTH_REQ)",
)


def test_a_refused_connection_names_the_cause_and_the_setting() -> None:
    error = broker_error(CLIENT, [REFUSED, ALL_DOWN], 10.0)
    assert str(error) == (
        "cannot reach the Kafka broker at kafka-1:9093 (connection refused) within 10 s;"
        " check DEDUP_KAFKA_BOOTSTRAP_SERVERS"
    )
    assert isinstance(error, KafkaException) and error.args[0].code() == KafkaError._TRANSPORT


def test_an_unknown_host_and_a_silent_one() -> None:
    unresolved = KafkaError(
        KafkaError._RESOLVE,
        "nosuch:9092/bootstrap: Failed to resolve 'nosuch:9092': Name or service not known"
        " (after 1ms in state CONNECT)",
    )
    assert "(failed to resolve 'nosuch:9092': Name or service not known)" in str(broker_error(CLIENT, [unresolved], 10))
    silent = broker_error({**CLIENT, "security.protocol": "SSL"}, [], 10.0, KafkaError(KafkaError._TRANSPORT))
    assert "(no answer) within 10 s" in str(silent)
    assert str(silent).endswith("check DEDUP_KAFKA_BOOTSTRAP_SERVERS and DEDUP_KAFKA_SECURITY_PROTOCOL")


def test_an_authentication_failure_says_so_and_names_the_settings_never_the_secret() -> None:
    client = {**CLIENT, "security.protocol": "SASL_SSL", "sasl.username": "svc", "sasl.password": "hunter2"}
    error = broker_error(client, [REFUSED, SASL_REFUSED, ALL_DOWN], 10.0)
    text = str(error)
    assert text.startswith("authentication with the Kafka broker at kafka-1:9093 failed (SASL authentication error:")
    assert "DEDUP_KAFKA_SASL_USERNAME and DEDUP_KAFKA_SASL_PASSWORD" in text
    assert "hunter2" not in text and "\n" not in text
    assert error.args[0].code() == KafkaError._AUTHENTICATION


def test_a_failed_tls_handshake_and_a_server_that_is_not_kafka() -> None:
    tls = KafkaError(
        KafkaError._SSL,
        "ssl://kafka-1:9093/bootstrap: SSL handshake failed: error:0A000086:SSL routines::certificate verify failed"
        " (after 5ms in state SSL_HANDSHAKE)",
    )
    text = str(broker_error(CLIENT, [tls], 10.0))
    assert "TLS handshake with the Kafka broker at kafka-1:9093 failed" in text and "certificate verify failed" in text
    assert text.endswith("check DEDUP_KAFKA_SECURITY_PROTOCOL and DEDUP_KAFKA_SSL_CA_LOCATION")
    http = KafkaError(KafkaError._BAD_MSG, "kafka-1:9093/bootstrap: Receive failed: Invalid response size 1213486160")
    assert "does not answer as a Kafka broker" in str(broker_error(CLIENT, [http, ALL_DOWN], 10.0))


def test_a_refused_topic_creation_is_an_authorization_line() -> None:
    denied = KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED, "Topic authorization failed")
    error = authorization_error(CLIENT, denied, "creating topic listings.created")
    assert error is not None and "does not allow creating topic listings.created" in str(error)
    assert authorization_error(CLIENT, KafkaError(KafkaError.INVALID_PARTITIONS), "x") is None


def test_reason_strips_the_broker_and_state_decoration() -> None:
    assert reason(REFUSED) == "connection refused"
    assert reason(KafkaError(KafkaError._TRANSPORT)) == "local: Broker transport failure"


def test_every_client_logs_through_the_librdkafka_logger() -> None:
    config = KafkaSettings().client_config()
    assert config["logger"] is logging.getLogger(LIBRDKAFKA_LOGGER)


@pytest.fixture
def root_level() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    level = root.level
    yield root
    root.setLevel(level)


def test_librdkafka_lines_show_only_at_debug(
    root_level: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    logger = KafkaSettings().client_config()["logger"]
    root_level.setLevel(logging.INFO)
    logger.error("FAIL [thrd:x]: Connect to ipv4#127.0.0.1:1 failed: Connection refused")
    assert "Connection refused" not in caplog.text
    root_level.setLevel(logging.DEBUG)
    logger.error("FAIL [thrd:x]: Connect to ipv4#127.0.0.1:1 failed: Connection refused")
    assert "Connection refused" in caplog.text


def test_a_closed_port_is_one_error_within_the_deadline() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"  # nobody listens there
    started = time.monotonic()
    with pytest.raises(BrokerError) as failure:
        connect({"bootstrap.servers": bootstrap, "logger": logging.getLogger(LIBRDKAFKA_LOGGER)}, timeout_s=2.0)
    assert time.monotonic() - started < 4.0
    expected = f"cannot reach the Kafka broker at {bootstrap} (connection refused) within 2 s"
    assert str(failure.value).startswith(expected)
