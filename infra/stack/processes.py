"""Process bookkeeping for the local stack: spawn, check, stop, and read the log of a background process.

Reusable by test fixtures. Liveness and command lines come from psutil, so they work wherever
psutil does (no hand-read /proc).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

from infra.stack.errors import StackError

POLL_INTERVAL_S = 0.05
# How long a process gets to die after SIGKILL before we give up on it.
KILL_WAIT_S = 5.0
_LOG_TAIL_LINES = 20
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def spawn(argv: list[str], log_path: Path, *, cwd: Path | None) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session (Ctrl-C in the caller's terminal does not reach it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if cwd is not None:
        cwd.mkdir(parents=True, exist_ok=True)
    environment = {**os.environ, "NO_COLOR": "1"}  # plain-text logs from tansu's tracing output
    with open(log_path, "wb") as log:
        try:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=environment,
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"cannot run {argv[0]}: {exc}") from None


def runs_command(pid: int, argv: Sequence[str]) -> bool:
    """Whether ``pid`` still runs ``argv``: a pid reused by another program does not."""
    try:
        command_line = psutil.Process(pid).cmdline()
    except psutil.Error:  # gone, a zombie, or not ours to inspect
        return False
    # Compared joined, as psutil splits the command line of a process that rewrote it on spaces.
    return " ".join(command_line) == " ".join(argv)


def stop_process(proc_or_pid: subprocess.Popen[bytes] | int, timeout_s: float) -> None:
    """SIGTERM, then SIGKILL if it still runs after ``timeout_s``. A gone process is fine."""
    if isinstance(proc_or_pid, subprocess.Popen):
        _stop_child(proc_or_pid, timeout_s)
    else:
        _stop_pid(proc_or_pid, timeout_s)


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file, without terminal colour codes."""
    try:
        with open(path, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(log.tell() - 16_384, 0))
            text = log.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return f"({path} does not exist)"
    tail = _ANSI_ESCAPE.sub("", text).splitlines()[-lines:]
    return "\n".join(tail) if tail else f"({path} is empty)"


def _stop_child(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        try:
            process.wait(timeout=KILL_WAIT_S)
        except subprocess.TimeoutExpired:
            raise StackError(f"process {process.pid} ({process.args[0]}) survived SIGKILL") from None


def _stop_pid(pid: int, timeout_s: float) -> None:
    try:
        process = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    # psutil refuses to signal the pid should another process take it over while we wait.
    for send_signal, wait_s in ((process.terminate, timeout_s), (process.kill, KILL_WAIT_S)):
        try:
            send_signal()
        except psutil.NoSuchProcess:
            return
        if _wait_for_exit(process, wait_s):
            return
    raise StackError(f"process {pid} survived SIGKILL")


def _wait_for_exit(process: psutil.Process, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not _has_exited(process):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL_S)
    return True


def _has_exited(process: psutil.Process) -> bool:
    """Gone, or a zombie: exited, but its parent has not reaped it (and may never, without an init)."""
    try:
        process.wait(timeout=0)  # reaps our own child, which would otherwise linger as a zombie
        return True
    except psutil.TimeoutExpired:
        pass
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
