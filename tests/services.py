"""Real services for the integration tests: local processes (default) or Docker containers.

``local`` runs the same tansu broker and redis-server as ``dedup stack up`` on free ports, plus a
Milvus Lite file; ``containers`` runs Kafka, Redis and Milvus standalone under testcontainers.
"""

from __future__ import annotations

import functools
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from infra.stack.errors import StackError
from infra.stack.processes import log_tail, stop_process
from infra.stack.services import (
    free_port,
    redis_url_for,
    start_redis,
    start_tansu,
    wait_for_kafka,
    wait_for_redis,
)

SERVICES_OPTION = "--services"
SERVICES_ENV = "DEDUP_TEST_SERVICES"
LOCAL = "local"
CONTAINERS = "containers"
SERVICE_MODES = (LOCAL, CONTAINERS)

# Pinned so a container run tests the same versions every time.
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
REDIS_IMAGE = "redis:7.2-alpine"
MILVUS_IMAGE = "milvusdb/milvus:v2.5.4"

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# tansu answers a group join after about half of session.timeout.ms: keep it short in tests.
TEST_SESSION_TIMEOUT_MS = 6_000
_START_ATTEMPTS = 3
_NAME_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# redis says "Address already in use"; tansu panics with "AddrInUse".
_ADDRESS_IN_USE = re.compile(r"address (already )?in use|AddrInUse", re.IGNORECASE)


def unique_name(prefix: str) -> str:
    """A fresh name valid for Kafka topics and groups, Redis keys and Milvus collections."""
    if not _NAME_PREFIX.fullmatch(prefix):
        raise ValueError(f"prefix {prefix!r}: only letters, digits and _, not starting with a digit")
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@functools.cache
def docker_unavailable_reason() -> str | None:
    """Why Docker cannot be used here, or None when it answers a ping."""
    try:
        import docker

        client = docker.from_env()
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # the docker SDK raises several unrelated types when no daemon answers
        return f"Docker is not available ({type(exc).__name__}: {exc}); use --services=local"
    return None


def kafka_service(mode: str, work_dir: Path) -> AbstractContextManager[str]:
    """Yields a bootstrap string ``host:port``."""
    return _container_kafka() if mode == CONTAINERS else _local_kafka(work_dir)


def redis_service(mode: str, work_dir: Path) -> AbstractContextManager[str]:
    """Yields a ``redis://`` URL."""
    return _container_redis() if mode == CONTAINERS else _local_redis(work_dir)


def milvus_service(mode: str, work_dir: Path) -> AbstractContextManager[str]:
    """Yields a Milvus URI: an ``http://`` server in containers mode, else a Milvus Lite file."""
    return _container_milvus() if mode == CONTAINERS else _lite_milvus(work_dir)


# --- Kafka helpers for tests -----------------------------------------------------------------


def create_topic(bootstrap: str, topic: str, partitions: int = 1, timeout_s: float = 10.0) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    futures[topic].result(timeout=timeout_s)


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]], timeout_s: float = 10.0) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for key, value in records:
        producer.produce(topic, value=value, key=key)
    undelivered = producer.flush(timeout_s)
    if undelivered:
        raise AssertionError(f"{undelivered} of {len(records)} records to {topic} were not delivered")


def consume(bootstrap: str, topic: str, group: str, count: int, timeout_s: float = 30.0) -> list[Message]:
    """Read ``count`` records from the start of ``topic`` as a fresh consumer group."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "session.timeout.ms": TEST_SESSION_TIMEOUT_MS,
        }
    )
    received: list[Message] = []
    deadline = time.monotonic() + timeout_s
    try:
        consumer.subscribe([topic])
        while len(received) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error() is not None:
                raise AssertionError(f"consuming {topic}: {message.error()}")
            received.append(message)
    finally:
        consumer.close()
    if len(received) < count:
        raise AssertionError(f"got {len(received)} of {count} records from {topic} within {timeout_s:g}s")
    return received


# --- local processes ---------------------------------------------------------------------------


@contextmanager
def _local_kafka(work_dir: Path) -> Iterator[str]:
    log_path = work_dir / "tansu.log"
    process, port = _start_on_free_port(
        start=lambda port: start_tansu(port, log_path, data_dir=work_dir),
        wait=lambda port, process: wait_for_kafka(f"127.0.0.1:{port}", START_TIMEOUT_S, process=process),
        log_path=log_path,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(process, STOP_TIMEOUT_S)


@contextmanager
def _local_redis(work_dir: Path) -> Iterator[str]:
    log_path = work_dir / "redis.log"
    process, port = _start_on_free_port(
        start=lambda port: start_redis(port, work_dir, log_path),
        wait=lambda port, process: wait_for_redis(redis_url_for(port), START_TIMEOUT_S, process=process),
        log_path=log_path,
    )
    try:
        yield redis_url_for(port)
    finally:
        stop_process(process, STOP_TIMEOUT_S)


@contextmanager
def _lite_milvus(work_dir: Path) -> Iterator[str]:
    # Milvus Lite starts inside the client that opens the file: nothing to run here.
    yield str(work_dir / "milvus.db")


def _start_on_free_port(
    start: Callable[[int], subprocess.Popen[bytes]],
    wait: Callable[[int, subprocess.Popen[bytes]], None],
    log_path: Path,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start and wait; retry on a new port only when the process exits (another test took the port)."""
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = free_port()
        process = start(port)
        try:
            wait(port, process)
            return process, port
        except StackError as exc:
            exited_on_its_own = process.poll() is not None
            stop_process(process, STOP_TIMEOUT_S)
            if not exited_on_its_own or attempt == _START_ATTEMPTS or not _lost_port_race(log_path):
                raise StackError(f"{exc} (log: {log_path})\n{log_tail(log_path)}") from None
    raise AssertionError("unreachable: the last attempt either returns or raises")


def _lost_port_race(log_path: Path) -> bool:
    return _ADDRESS_IN_USE.search(log_tail(log_path)) is not None


# --- containers ----------------------------------------------------------------------------------


@contextmanager
def _container_kafka() -> Iterator[str]:
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka:
        yield kafka.get_bootstrap_server()


@contextmanager
def _container_redis() -> Iterator[str]:
    from testcontainers.community.redis import RedisContainer

    with RedisContainer(REDIS_IMAGE) as redis:
        yield f"redis://{redis.get_container_host_ip()}:{redis.get_exposed_port(redis.port)}/0"


@contextmanager
def _container_milvus() -> Iterator[str]:
    from testcontainers.community.milvus import MilvusContainer

    with MilvusContainer(MILVUS_IMAGE) as milvus:
        yield milvus.get_connection_url()
