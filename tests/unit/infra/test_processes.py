"""infra.stack.processes: stopping a process that ignores SIGTERM, by handle and by pid, never hangs."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from infra.stack.processes import log_tail, runs_command, spawn, stop_process

# Ignores SIGTERM, so only the SIGKILL after the timeout stops it.
STUBBORN = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"]


def started(tmp_path: Path) -> subprocess.Popen[bytes]:
    process = spawn(STUBBORN, tmp_path / "stubborn.log", cwd=None)
    deadline = time.monotonic() + 10
    while "up" not in log_tail(tmp_path / "stubborn.log") and time.monotonic() < deadline:
        time.sleep(0.05)
    return process


def test_a_child_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    process = started(tmp_path)
    began = time.monotonic()
    stop_process(process, timeout_s=0.3)
    assert process.poll() is not None and process.returncode < 0
    assert 0.3 <= time.monotonic() - began < 5


def test_a_process_known_only_by_pid_is_stopped_and_a_gone_pid_is_fine(tmp_path: Path) -> None:
    process = started(tmp_path)
    assert runs_command(process.pid, STUBBORN)
    stop_process(process.pid, timeout_s=0.3)
    assert not psutil.pid_exists(process.pid) or psutil.Process(process.pid).status() == psutil.STATUS_ZOMBIE
    assert not runs_command(process.pid, STUBBORN)
    stop_process(process.pid, timeout_s=0.3)  # already gone: no error
    process.wait(timeout=1)


def test_a_reused_pid_is_not_taken_for_our_process(tmp_path: Path) -> None:
    process = started(tmp_path)
    try:
        assert not runs_command(process.pid, [*STUBBORN[:-1], "something else"])
    finally:
        stop_process(process, timeout_s=0.3)
