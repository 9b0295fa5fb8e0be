"""For the Milvus-server fault tests: a standalone Milvus that can be killed and brought back on the
same ports with its data, and the group's progress as the workers (separate processes) commit it.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from infra.stack.errors import StackError
from infra.stack.processes import log_tail, stop_process
from stream.settings import Settings
from tests.faults.checks import Position
from tests.faults.helpers import WorkerProcess
from tests.streaming import committed_and_ends, worker_env

START_TIMEOUT_S = 180.0
# Milvus' own SIGTERM shutdown can hang for minutes (measured: still up after 5 s); then SIGKILL.
STOP_TIMEOUT_S = 5.0
WAIT_STEP_MS = 2_000
PORT_TAKEN = "bind: address already in use"
# The embedded etcd's peer port (2380) is fixed in the milvus package's config template.
PORT_CLASH = "is another standalone Milvus server (another test run) up on this machine?"
WORKER_STOP_TIMEOUT_S = 60.0
POLL_S = 0.5  # polling other processes' progress: there is nothing to wait on


class RestartableMilvus:
    """The ``milvus`` package's standalone server (2.3.x), restartable on its first ports and data."""

    def __init__(self, data_dir: Path) -> None:
        import milvus  # the test module skips itself where the package is absent

        self._server = milvus.MilvusServer(milvus.MilvusServerConfig(data_dir=str(data_dir)), wait_for_started=False)
        self.log_path = data_dir / "logs" / "milvus-stdout.log"
        self.starts = 0

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self._server.listen_port}"

    def start(self) -> float:
        """Starts (or restarts) the server and waits until it answers; returns the seconds it took."""
        began = time.monotonic()
        if self.starts:
            # Keep the config written at the first start: the same ports, so the workers' URI stays
            # right. Re-resolving would probe ports without SO_REUSEADDR and fail (or move) while the
            # old connections sit in TIME_WAIT.
            self._server.config.resolve = lambda: None
        self._server.start()
        self.starts += 1
        try:
            self._wait_started(began + START_TIMEOUT_S)
        except (TimeoutError, RuntimeError, StackError) as exc:
            self.kill()
            raise StackError(f"Milvus server did not start: {exc}\n{log_tail(self.log_path)}") from None
        return time.monotonic() - began

    def _wait_started(self, deadline: float) -> None:
        """Until healthy; fails at once on a port taken by another server (it would hang, unhealthy)."""
        while True:
            try:
                self._server.wait_started(timeout=WAIT_STEP_MS)
                return
            except TimeoutError:
                if PORT_TAKEN in log_tail(self.log_path, lines=200):
                    raise StackError(f"a port is taken ({PORT_TAKEN}): {PORT_CLASH}") from None
                if time.monotonic() > deadline:
                    raise

    def kill(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S: for the worker, the server just vanishes."""
        if self._server.server_proc is not None:
            stop_process(self._server.server_proc, STOP_TIMEOUT_S)
        self._server.stop()  # closes its log files; the process is already gone


# --- workers and progress ----------------------------------------------------------------------------------


def server_worker_env(settings: Settings) -> dict[str, str]:
    """``worker_env`` pointed at the server, with the index type and retry cap of ``settings``."""
    return worker_env(
        settings,
        Path(),  # the argument names a Milvus Lite file: a server URI goes in below, unmangled by Path
        DEDUP_MILVUS_URI=settings.milvus.uri,
        DEDUP_MILVUS_INDEX_TYPE=settings.milvus.index_type,
        DEDUP_WORKER_RETRY_MAX_BACKOFF_S=str(settings.worker.retry_max_backoff_s),
        DEDUP_WORKER_SUMMARY_INTERVAL_S="2",
    )


def terminate(worker: WorkerProcess) -> int:
    """SIGTERM and the exit status; a worker still running after WORKER_STOP_TIMEOUT_S is killed."""
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGTERM)
    try:
        return worker.wait(WORKER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        raise AssertionError(f"ignored SIGTERM for {WORKER_STOP_TIMEOUT_S:g}s:\n{worker.log()[-3000:]}") from None


def committed_past(settings: Settings, positions: Iterable[Position]) -> list[Position]:
    """The positions the group has committed past (offset < committed offset of its partition)."""
    committed, _ends = committed_and_ends(settings)
    return sorted(position for position in positions if position[1] < committed.get(position[0], 0))


def wait_until_all_committed(settings: Settings, timeout_s: float, on_poll: Callable[[], None] = lambda: None) -> float:
    """Polls until the group's committed offsets reach the topic's ends; returns the seconds it took.

    ``on_poll`` runs between polls: it may publish more, or check (and restart) the workers.
    """
    began = time.monotonic()
    while True:
        committed, ends = committed_and_ends(settings)
        if committed == ends:
            return time.monotonic() - began
        on_poll()
        assert time.monotonic() - began < timeout_s, f"not all committed within {timeout_s:g}s: {committed} of {ends}"
        time.sleep(POLL_S)


class Supervised:
    """A worker started again whenever it exits, as systemd or Kubernetes would; the exits are kept."""

    def __init__(self, start: Callable[[int], WorkerProcess], max_restarts: int) -> None:
        self._start = start
        self.max_restarts = max_restarts
        self.runs = 0
        self.exits: list[str] = []
        self.worker = self._next()

    def check(self) -> None:
        """Restarts an exited worker; more than ``max_restarts`` exits is a crash loop and fails."""
        code = self.worker.process.poll()
        if code is None:
            return
        self.exits.append(f"run {self.runs} exited {code}: {last_line(self.worker.log())}")
        assert len(self.exits) <= self.max_restarts, "crash loop:\n" + "\n".join(self.exits)
        self.worker = self._next()

    def _next(self) -> WorkerProcess:
        self.runs += 1
        return self._start(self.runs)


def last_line(log: str, limit: int = 300) -> str:
    lines = [line for line in log.splitlines() if line.strip()]
    return lines[-1][:limit] if lines else "(no output)"
