"""Fixtures of the fault suite (``pytest -m faults``): the session services come from tests/conftest.py."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infra.stack.processes import stop_process
from infra.stack.services import (
    free_port,
    kafka_bootstrap_for,
    redis_url_for,
    start_redis,
    start_tansu,
    wait_for_kafka,
    wait_for_redis,
)
from stream.settings import Settings
from tests.faults.helpers import PrivateService, WorkerProcess
from tests.services import START_TIMEOUT_S, STOP_TIMEOUT_S


@pytest.fixture
def process_settings(pipeline_settings: Settings, tmp_path: Path) -> Settings:
    """``pipeline_settings`` with a Milvus Lite file of its own, for a worker run as a separate process.

    Milvus Lite lets one process at a time open a file; the test reads it only after the worker is gone.
    """
    pipeline_settings.milvus = pipeline_settings.milvus.model_copy(update={"uri": str(tmp_path / "worker-milvus.db")})
    return pipeline_settings


@pytest.fixture
def spawn_worker(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """``spawn_worker(env, name, *args)`` starts ``dedup run``; whatever still runs at teardown is killed."""
    started: list[WorkerProcess] = []

    def spawn(env: dict[str, str], name: str, *args: str) -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"{name}.log", *args)
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateService]:
    port = free_port()
    log_path = tmp_path / "tansu.log"
    service = PrivateService(port, start_tansu(port, log_path), lambda: start_tansu(port, log_path))
    try:
        wait_for_kafka(kafka_bootstrap_for(port), START_TIMEOUT_S, process=service.process)
        yield service
    finally:
        if service.process.poll() is None:
            os.kill(service.process.pid, signal.SIGCONT)  # a frozen broker cannot act on SIGTERM
        stop_process(service.process, STOP_TIMEOUT_S)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateService]:
    port = free_port()
    data_dir, log_path = tmp_path / "redis", tmp_path / "redis.log"
    service = PrivateService(port, start_redis(port, data_dir, log_path), lambda: start_redis(port, data_dir, log_path))
    try:
        wait_for_redis(redis_url_for(port), START_TIMEOUT_S, process=service.process)
        yield service
    finally:
        stop_process(service.process, STOP_TIMEOUT_S)
