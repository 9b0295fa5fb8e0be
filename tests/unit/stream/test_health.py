"""The worker's liveness and readiness states, and the HTTP server that answers for them and for metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter

from stream.worker.health import READY_CONDITIONS, HealthServer, WorkerHealth
from tests.http_probe import http_get


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def ready_all(health: WorkerHealth) -> None:
    for name in READY_CONDITIONS:
        health.set(name, True)


def test_liveness_is_ok_while_starting_and_beating_then_fails_when_the_loop_stalls_or_ends() -> None:
    clock = Clock()
    health = WorkerHealth(liveness_timeout_s=60, clock=clock)
    assert health.liveness().ok and "starting" in health.liveness().lines[0]

    health.beat()
    clock.now += 59
    assert health.liveness().ok

    clock.now += 2  # 61 s without a beat
    stuck = health.liveness()
    assert not stuck.ok and stuck.lines == ["stuck: no worker loop beat for 61 s (limit 60 s)"]

    health.beat()
    assert health.liveness().ok, "a loop that turns again is alive again"
    health.stopped()
    assert not health.liveness().ok and health.liveness().lines == ["worker loop ended"]


def test_readiness_waits_for_every_condition_and_names_the_missing_ones() -> None:
    health = WorkerHealth(clock=Clock())
    health.set("model", True, "m1")
    health.set("milvus", True)
    waiting = health.readiness()
    assert not waiting.ok
    assert waiting.lines == ["model ok (m1)", "milvus ok", "redis waiting", "group waiting"]

    health.set("redis", True, "cache off")
    health.set("group", True, "joined")
    assert health.readiness().ok


def test_a_stuck_loop_is_not_ready_either() -> None:
    clock = Clock()
    health = WorkerHealth(liveness_timeout_s=10, clock=clock)
    ready_all(health)
    health.beat()
    clock.now += 11
    verdict = health.readiness()
    assert not verdict.ok and verdict.lines[-1].startswith("liveness stuck")


def test_a_probe_is_asked_again_only_after_its_interval_and_a_raising_probe_reads_as_failed() -> None:
    clock = Clock()
    health = WorkerHealth(clock=clock, probe_interval_s=5)
    ready_all(health)
    answers = iter([True, False, RuntimeError("connection refused")])
    calls = []

    def ping() -> bool:
        calls.append(clock.now)
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    health.probe("redis", ping)  # asked at once
    assert health.readiness().ok and len(calls) == 1, "within the interval the last answer stands"

    clock.now += 5
    assert not health.readiness().ok and "redis failed" in health.readiness().lines[2]
    assert len(calls) == 2

    clock.now += 5
    assert health.readiness().lines[2] == "redis failed (connection refused)"


@pytest.fixture
def served() -> Iterator[tuple[WorkerHealth, int]]:
    registry = CollectorRegistry()
    Counter("dedup_test_things", "a series to find", registry=registry).inc(3)
    health = WorkerHealth(liveness_timeout_s=60)
    server = HealthServer(health, registry, port=0, host="127.0.0.1")
    try:
        yield health, server.port
    finally:
        server.close()


def test_the_server_answers_healthz_readyz_and_metrics(served: tuple[WorkerHealth, int]) -> None:
    health, port = served
    assert http_get(port, "/healthz")[0] == 200
    status, body = http_get(port, "/readyz")
    assert status == 503 and "model waiting" in body

    ready_all(health)
    health.beat()
    assert http_get(port, "/readyz") == (200, "model ok\nmilvus ok\nredis ok\ngroup ok\n")
    status, body = http_get(port, "/metrics")
    assert status == 200 and "dedup_test_things_total 3.0" in body

    health.stopped()
    assert http_get(port, "/healthz") == (503, "worker loop ended\n")
