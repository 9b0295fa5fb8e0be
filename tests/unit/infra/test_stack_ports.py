"""Which ports a stack uses: the running stack's (from its state), the defaults, or free ones for a command's own.

A running stack is faked by recording this test process (its pid and command line) in stack.json, which is
what ``up`` writes and what ``status`` checks the process against.
"""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest

from infra.stack.local import DEFAULT_PORTS, KAFKA, REDIS, LocalStack, command_ports
from infra.stack.services import free_ports, port_in_use
from stream.commands.options import StackOptions
from stream.commands.stack import cmd_stack


def record_running_stack(state_dir: Path, kafka_port: int, redis_port: int) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    me = psutil.Process()
    entry = {"pid": me.pid, "argv": me.cmdline()}
    state = {KAFKA: {**entry, "port": kafka_port}, REDIS: {**entry, "port": redis_port}}
    (state_dir / "stack.json").write_text(json.dumps(state))


def test_free_ports_are_distinct_and_free() -> None:
    ports = free_ports(4)
    assert len(set(ports)) == 4
    assert not any(port_in_use(port) for port in ports)


def test_a_command_gets_free_ports_never_the_defaults(tmp_path: Path) -> None:
    first, second = command_ports(tmp_path / "a"), command_ports(tmp_path / "b")
    for ports in (first, second):
        assert ports["kafka_port"] != ports["redis_port"]
        assert ports["kafka_port"] not in DEFAULT_PORTS.values() and ports["redis_port"] not in DEFAULT_PORTS.values()


def test_a_command_reuses_the_ports_of_the_stack_running_in_its_folder(tmp_path: Path) -> None:
    record_running_stack(tmp_path, 23001, 23002)
    assert command_ports(tmp_path) == {"kafka_port": 23001, "redis_port": 23002}


def test_ports_not_given_are_the_running_stacks_else_the_defaults(tmp_path: Path) -> None:
    assert (LocalStack(tmp_path / "none").kafka_port, LocalStack(tmp_path / "none").redis_port) == (19092, 16379)
    record_running_stack(tmp_path, 23001, 23002)
    stack = LocalStack(tmp_path)
    assert (stack.kafka_port, stack.redis_port) == (23001, 23002)
    assert LocalStack(tmp_path, kafka_port=24000).kafka_port == 24000, "a port given wins"


def test_stack_status_exports_the_ports_the_stack_uses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record_running_stack(tmp_path, 23001, 23002)
    for options in (StackOptions("status", state_dir=tmp_path), StackOptions("status", tmp_path, 19092, 16379)):
        assert cmd_stack(options) == 0
        out = capsys.readouterr().out
        assert "export DEDUP_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:23001\n" in out
        assert "export DEDUP_REDIS_URL=redis://127.0.0.1:23002/0\n" in out
        assert "19092" not in out and "16379" not in out


def test_a_stopped_stack_falls_back_to_the_defaults(tmp_path: Path) -> None:
    record_running_stack(tmp_path, 23001, 23002)
    state = json.loads((tmp_path / "stack.json").read_text())
    state[KAFKA]["argv"] = ["not", "this", "process"]  # its pid now runs something else: not the stack's
    (tmp_path / "stack.json").write_text(json.dumps(state))
    assert LocalStack(tmp_path).kafka_port == 19092 and LocalStack(tmp_path).redis_port == 23002
