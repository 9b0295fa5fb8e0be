"""What an operator sees when the broker cannot be used, and the ports a stack or a command's own stack uses.

Separate `dedup` processes, as an operator runs them: one line on stderr, exit 1, within a bounded time,
for a closed port and for credentials the broker refuses (tansu answers a SASL handshake with an error,
a real authentication failure); `dedup stack status` exports the ports the stack runs on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.stack.local import DEFAULT_PORTS, KAFKA, REDIS, LocalStack, embedded_stack
from infra.stack.services import free_port, free_ports
from stream.commands.exit_codes import EXIT_BROKER_UNAVAILABLE

pytestmark = pytest.mark.integration
DEDUP = [sys.executable, "-m", "stream.commands.cli"]


def dedup(args: list[str], timeout_s: float = 60.0, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run(
        [*DEDUP, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout_s
    )
    return done, time.monotonic() - started


@pytest.fixture
def listings_file(tmp_path: Path) -> Path:
    path = tmp_path / "listings.jsonl"
    path.write_text('{"listing_id": "a", "title": "Sony Bravia 55 inch TV"}\n')
    return path


@pytest.mark.parametrize("command", [["publish", "LISTINGS"], ["run", "--until-idle", "5"]])
def test_a_closed_port_is_one_line_and_exit_3_within_the_connect_timeout(
    command: list[str], listings_file: Path
) -> None:
    bootstrap = f"127.0.0.1:{free_port()}"  # nobody listens there
    args = [str(listings_file) if arg == "LISTINGS" else arg for arg in command]
    done, seconds = dedup(args, DEDUP_KAFKA_BOOTSTRAP_SERVERS=bootstrap)
    assert done.returncode == EXIT_BROKER_UNAVAILABLE
    assert done.stderr.splitlines() == [
        f"dedup: error: cannot reach the Kafka broker at {bootstrap} (connection refused) within 10 s;"
        " check DEDUP_KAFKA_BOOTSTRAP_SERVERS"
    ]
    assert seconds < 25, "10 s of connection attempts, plus the interpreter's start"


def test_credentials_the_broker_refuses_are_an_authentication_line(kafka_bootstrap: str, listings_file: Path) -> None:
    done, seconds = dedup(
        ["publish", str(listings_file)],
        DEDUP_KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        DEDUP_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        DEDUP_KAFKA_SASL_MECHANISM="PLAIN",
        DEDUP_KAFKA_SASL_USERNAME="svc",
        DEDUP_KAFKA_SASL_PASSWORD="hunter2",
    )
    assert done.returncode == EXIT_BROKER_UNAVAILABLE
    [line] = done.stderr.splitlines()
    assert line.startswith(f"dedup: error: authentication with the Kafka broker at {kafka_bootstrap} failed (")
    assert line.endswith("check DEDUP_KAFKA_SECURITY_PROTOCOL, DEDUP_KAFKA_SASL_MECHANISM, DEDUP_KAFKA_SASL_USERNAME"
                         " and DEDUP_KAFKA_SASL_PASSWORD")  # fmt: skip
    assert "hunter2" not in done.stderr + done.stdout
    assert seconds < 10, "an authentication failure ends the wait at once"


@pytest.fixture
def stack_dir(tmp_path: Path) -> Iterator[Path]:
    state_dir = tmp_path / "stack"
    yield state_dir
    LocalStack(state_dir).down()


def test_stack_status_exports_the_ports_the_stack_was_started_on(stack_dir: Path) -> None:
    kafka_port, redis_port = free_ports(2)
    up, _ = dedup(["stack", "up", "--state-dir", str(stack_dir), "--kafka-port", str(kafka_port),
                   "--redis-port", str(redis_port)])  # fmt: skip
    assert up.returncode == 0, up.stderr
    status, _ = dedup(["stack", "status", "--state-dir", str(stack_dir)])
    assert f"export DEDUP_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{kafka_port}\n" in status.stdout
    assert f"export DEDUP_REDIS_URL=redis://127.0.0.1:{redis_port}/0\n" in status.stdout
    again, _ = dedup(["stack", "up", "--state-dir", str(stack_dir)])  # no ports: the running stack's
    assert again.returncode == 0 and f"127.0.0.1:{kafka_port}" in again.stdout, again.stderr


def test_commands_own_stacks_run_side_by_side_on_free_ports() -> None:
    """What `dedup demo` and `dedup eval --stream` start: never 19092/16379, so they collide with nothing.

    (The default ports are not squatted here: other `dedup stack`s may be using them on this machine.)
    """
    with embedded_stack() as first, embedded_stack() as second:
        ports = [status.component(name).endpoint for status in (first, second) for name in (KAFKA, REDIS)]
        assert len(set(ports)) == 4
        assert not any(f":{port}" in endpoint for port in DEFAULT_PORTS.values() for endpoint in ports)
        assert first.state_dir != second.state_dir and first.state_dir.is_dir()
        folders = first.state_dir, second.state_dir
    assert not any(folder.exists() for folder in folders), "the temporary folders are removed after"
