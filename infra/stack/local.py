"""The embedded local stack (a tansu Kafka broker, a redis-server and a Milvus Lite file) and its state.

:class:`LocalStack` starts, inspects and stops it; the processes themselves are started by
:mod:`infra.stack.services` and tracked by :mod:`infra.stack.processes`.

Everything lives under one state directory (``.dedup/`` by default)::

    stack.json   pids, ports and argv of the processes ``up`` started (what ``down`` may stop, what
                 ``status`` reports)
    stack.lock   serialises concurrent ``up``/``down`` calls
    logs/        one log file per process
    kafka/       the broker's working directory
    redis/       redis-server's ``--dir``
    milvus.db    the Milvus Lite database (opened in-process by pymilvus; nothing to start)

The bundled tansu build only ships the ``dynostore`` engines (``memory://`` and ``s3://``;
sqlite, postgres and slatedb are compiled out), so topics live in memory and vanish when the
broker stops. Redis is used as a cache, so it runs without persistence as well.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.files import write_bytes_atomically
from infra.stack.errors import StackError
from infra.stack.processes import KILL_WAIT_S, log_tail, runs_command, stop_process
from infra.stack.services import (
    free_ports,
    kafka_bootstrap_for,
    port_in_use,
    redis_url_for,
    start_redis,
    start_tansu,
    wait_for_kafka,
    wait_for_redis,
)

KAFKA = "kafka"
REDIS = "redis"
MILVUS = "milvus"
DEFAULT_PORTS = {KAFKA: 19092, REDIS: 16379}  # `dedup stack up`'s; commands that start their own take free ones

_STATE_FILE = "stack.json"
_LOCK_FILE = "stack.lock"


@dataclass(frozen=True)
class ComponentStatus:
    """One component. ``pid`` is set only for processes this stack started."""

    name: str
    running: bool
    endpoint: str
    pid: int | None
    started_by_stack: bool


@dataclass(frozen=True)
class StackStatus:
    components: tuple[ComponentStatus, ...]
    state_dir: Path
    kafka_bootstrap: str
    redis_url: str
    milvus_uri: str

    def component(self, name: str) -> ComponentStatus:
        for component in self.components:
            if component.name == name:
                return component
        raise KeyError(f"no component named {name!r}; have {[c.name for c in self.components]}")


@dataclass(frozen=True)
class _Record:
    """What ``up`` wrote to stack.json for one process it started."""

    pid: int
    port: int
    argv: tuple[str, ...]


@dataclass(frozen=True)
class _Service:
    name: str
    port: int
    endpoint: str
    start: Callable[[Path], subprocess.Popen[bytes]]  # log path -> process
    wait: Callable[[float, subprocess.Popen[bytes] | None], None]  # timeout, process -> ready


class LocalStack:
    """Starts, inspects and stops the embedded services under ``state_dir``.

    A port not given is the one the stack running in ``state_dir`` uses, else the default: `dedup stack
    status` and a second `up` then see the stack as it was started, whatever its ports.
    """

    def __init__(
        self, state_dir: Path = Path(".dedup"), *, kafka_port: int | None = None, redis_port: int | None = None
    ) -> None:
        self.state_dir = Path(state_dir)
        # Kept so processes started by this object are reaped by Popen rather than left as zombies.
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        recorded = self.running_ports()
        self.kafka_port = kafka_port or recorded.get(KAFKA, DEFAULT_PORTS[KAFKA])
        self.redis_port = redis_port or recorded.get(REDIS, DEFAULT_PORTS[REDIS])

    def running_ports(self) -> dict[str, int]:
        """The ports of the processes an earlier ``up`` started here that still run."""
        if not self.state_dir.is_dir():
            return {}
        return {name: record.port for name, record in self._live_records().items()}

    @property
    def kafka_bootstrap(self) -> str:
        return kafka_bootstrap_for(self.kafka_port)

    @property
    def redis_url(self) -> str:
        return redis_url_for(self.redis_port)

    @property
    def milvus_uri(self) -> str:
        return str(self.state_dir / "milvus.db")

    def up(self, timeout_s: float = 30.0) -> StackStatus:
        """Start whatever is not running yet and wait until every service answers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self._locked():
            records = self._live_records()
            services = self._services()
            to_start = self._services_to_start(services, records)
            started: dict[str, subprocess.Popen[bytes]] = {}
            try:
                for service in to_start:
                    process = service.start(self._log_path(service.name))
                    started[service.name] = process
                    records[service.name] = _Record(process.pid, service.port, tuple(process.args))
                # Recorded before waiting, so a crash mid-wait leaves nothing `down` cannot stop.
                self._write_records(records)
                self._wait_ready(services, started, timeout_s)
            except BaseException:
                self._stop_started(started, records)
                raise
            self._processes.update(started)
        return self.status()

    def down(self, timeout_s: float = 10.0) -> list[str]:
        """Stop the processes ``up`` started (verified by pid and command line); return their names."""
        if not self.state_dir.is_dir():
            return []
        with self._locked():
            records = self._live_records()
            stopped: list[str] = []
            try:
                for name in list(records):
                    stop_process(self._processes.pop(name, None) or records[name].pid, timeout_s)
                    del records[name]
                    stopped.append(name)
            finally:
                self._write_records(records)
        return stopped

    def status(self) -> StackStatus:
        records = self._live_records() if self.state_dir.is_dir() else {}
        process_components = tuple(
            _process_status(service, records.get(service.name)) for service in self._services()
        )
        # Milvus Lite runs inside each client process: it is usable once the state dir exists.
        milvus = ComponentStatus(MILVUS, self.state_dir.is_dir(), self.milvus_uri, None, False)
        kafka, redis = process_components
        return StackStatus(
            components=(*process_components, milvus),
            state_dir=self.state_dir,
            # What the running processes use (their recorded ports), not what this object was given.
            kafka_bootstrap=kafka.endpoint,
            redis_url=redis.endpoint,
            milvus_uri=self.milvus_uri,
        )

    def _services(self) -> tuple[_Service, ...]:
        kafka = _Service(
            name=KAFKA,
            port=self.kafka_port,
            endpoint=self.kafka_bootstrap,
            start=lambda log: start_tansu(self.kafka_port, log, data_dir=self.state_dir / "kafka"),
            wait=lambda timeout, process: wait_for_kafka(self.kafka_bootstrap, timeout, process=process),
        )
        redis = _Service(
            name=REDIS,
            port=self.redis_port,
            endpoint=self.redis_url,
            start=lambda log: start_redis(self.redis_port, self.state_dir / "redis", log),
            wait=lambda timeout, process: wait_for_redis(self.redis_url, timeout, process=process),
        )
        return (kafka, redis)

    def _services_to_start(
        self, services: tuple[_Service, ...], records: dict[str, _Record]
    ) -> list[_Service]:
        """Check every port before starting anything, so a conflict leaves nothing half-started."""
        to_start = []
        for service in services:
            running = records.get(service.name)
            if running is not None and running.port != service.port:
                raise StackError(
                    f"{service.name} from an earlier `up` in {self.state_dir} runs on port {running.port}, "
                    f"not {service.port}; stop the stack first"
                )
            if running is None:
                if port_in_use(service.port):
                    raise StackError(
                        f"port {service.port} ({service.name}) is already in use by a process this stack "
                        f"did not start; stop that process or choose another {service.name} port"
                    )
                to_start.append(service)
        return to_start

    def _wait_ready(
        self, services: tuple[_Service, ...], started: dict[str, subprocess.Popen[bytes]], timeout_s: float
    ) -> None:
        deadline = time.monotonic() + timeout_s
        for service in services:
            try:
                service.wait(max(deadline - time.monotonic(), 0.0), started.get(service.name))
            except StackError as exc:
                log_path = self._log_path(service.name)
                raise StackError(f"{exc} (log: {log_path})\n{log_tail(log_path)}") from None

    def _stop_started(self, started: dict[str, subprocess.Popen[bytes]], records: dict[str, _Record]) -> None:
        for name, process in started.items():
            stop_process(process, KILL_WAIT_S)
            records.pop(name, None)
        self._write_records(records)

    def _log_path(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    @property
    def _state_path(self) -> Path:
        return self.state_dir / _STATE_FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.state_dir / _LOCK_FILE, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _live_records(self) -> dict[str, _Record]:
        """Recorded processes that still run the command we started (a reused pid is not ours)."""
        self._forget_exited_processes()
        return {name: record for name, record in self._read_records().items() if runs_command(record.pid, record.argv)}

    def _forget_exited_processes(self) -> None:
        """Drop handles on processes that exited, e.g. stopped by another LocalStack on this dir."""
        self._processes = {name: proc for name, proc in self._processes.items() if proc.poll() is None}

    def _read_records(self) -> dict[str, _Record]:
        try:
            raw = json.loads(self._state_path.read_text())
            return {
                name: _Record(int(entry["pid"]), int(entry["port"]), tuple(entry["argv"]))
                for name, entry in raw.items()
            }
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StackError(
                f"{self._state_path} is unreadable ({exc}); stop the stack's processes by hand and delete it"
            ) from None

    def _write_records(self, records: dict[str, _Record]) -> None:
        if not records:
            self._state_path.unlink(missing_ok=True)
            return
        payload = {
            name: {"pid": record.pid, "port": record.port, "argv": list(record.argv)}
            for name, record in records.items()
        }
        write_bytes_atomically(self._state_path, (json.dumps(payload, indent=2) + "\n").encode())


def _process_status(service: _Service, record: _Record | None) -> ComponentStatus:
    if record is None:
        # Something else may serve the port; report it, but it is not ours to stop.
        return ComponentStatus(service.name, port_in_use(service.port), service.endpoint, None, False)
    endpoint = service.endpoint if record.port == service.port else _endpoint(service.name, record.port)
    return ComponentStatus(service.name, True, endpoint, record.pid, True)


def _endpoint(name: str, port: int) -> str:
    return kafka_bootstrap_for(port) if name == KAFKA else redis_url_for(port)


@contextmanager
def embedded_stack(state_dir: Path | None = None, **ports: int) -> Iterator[StackStatus]:
    """The local stack for the length of a command; left running if it was running before.

    Without ``state_dir`` it lives in a fresh temporary folder, removed after. Ports not given are
    those of a stack already running in ``state_dir``, else free ones, never the fixed defaults: two
    commands, or a command and `dedup stack up`, can run at once.
    """
    with ExitStack() as cleanup:
        if state_dir is None:
            # Milvus Lite may still hold its file for a moment after the store closes.
            folder = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="dedup-", ignore_cleanup_errors=True))
            state_dir = Path(folder)
        stack = LocalStack(state_dir, **{**command_ports(state_dir), **ports})
        # Milvus Lite has no process (it reads as running once its folder exists): only servers count.
        already_running = any(c.running and c.started_by_stack for c in stack.status().components)
        status = stack.up()
        try:
            yield status
        finally:
            if not already_running:
                stack.down()


def command_ports(state_dir: Path) -> dict[str, int]:
    """``kafka_port``/``redis_port`` for a command's own stack: a running stack's, else free ports."""
    running = LocalStack(state_dir).running_ports()
    free = iter(free_ports(2))
    return {
        "kafka_port": running.get(KAFKA) or next(free),
        "redis_port": running.get(REDIS) or next(free),
    }
