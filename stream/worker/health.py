"""Liveness and readiness of the worker, and the one HTTP server that answers for them and for metrics.

On ``DEDUP_WORKER_METRICS_PORT``:
  /healthz  liveness: 200 while the worker loop beats (once per turn: poll, prepare, finish) at least every
            ``DEDUP_WORKER_LIVENESS_TIMEOUT_S``, and while it is starting; 503 once it is stuck or has ended,
            so a supervisor restarts a worker whose loop hangs (a call that never returns) but not a slow one.
  /readyz   readiness: 200 once the model is loaded, Milvus answered, Redis answers (or the cache is off) and
            the consumer joined its group; 503 with the conditions not met, one per line.
  /metrics  the Prometheus exposition of the worker's registry (prometheus_client's own WSGI app).
The body is one line per check, so ``curl`` shows why a probe fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

log = logging.getLogger(__name__)

DEFAULT_LIVENESS_TIMEOUT_S = 120.0
# A readiness probe (k8s: every few seconds) reuses a dependency's answer this long instead of asking again.
PROBE_INTERVAL_S = 5.0
# What readiness waits for, in the order the worker gets them.
READY_CONDITIONS = ("model", "milvus", "redis", "group")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    lines: list[str]

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass
class _Condition:
    ok: bool
    detail: str


class WorkerHealth:
    """State the worker reports (beats, conditions) and the probes read; safe across threads."""

    def __init__(
        self,
        liveness_timeout_s: float = DEFAULT_LIVENESS_TIMEOUT_S,
        *,
        clock: Callable[[], float] = time.monotonic,
        probe_interval_s: float = PROBE_INTERVAL_S,
    ) -> None:
        self.liveness_timeout_s = liveness_timeout_s
        self.clock = clock
        self.probe_interval_s = probe_interval_s
        self._lock = threading.Lock()
        self._last_beat: float | None = None
        self._stopped = False
        self._conditions: dict[str, _Condition] = {}
        self._probes: dict[str, Callable[[], bool]] = {}
        self._probed_at: dict[str, float] = {}

    # --- what the worker reports

    def beat(self) -> None:
        """Once per turn of the worker loop; the first one says the loop has begun."""
        with self._lock:
            self._last_beat = self.clock()
            self._stopped = False

    def stopped(self) -> None:
        with self._lock:
            self._stopped = True

    def set(self, condition: str, ok: bool, detail: str = "") -> None:
        """A readiness condition's state (one of READY_CONDITIONS)."""
        with self._lock:
            self._conditions[condition] = _Condition(ok, detail)

    def probe(self, condition: str, check: Callable[[], bool], detail: str = "") -> None:
        """A condition asked again when read, at most every ``probe_interval_s`` (e.g. Redis PING)."""
        with self._lock:
            self._probes[condition] = check
            self._probed_at.pop(condition, None)
        self._refresh(condition, detail)

    # --- what the probes read

    def liveness(self) -> Verdict:
        with self._lock:
            last, stopped = self._last_beat, self._stopped
        if stopped:
            return Verdict(False, ["worker loop ended"])
        if last is None:
            return Verdict(True, ["starting: the worker loop has not begun"])
        age = self.clock() - last
        if age > self.liveness_timeout_s:
            return Verdict(False, [f"stuck: no worker loop beat for {age:.0f} s (limit {self.liveness_timeout_s:g} s)"])
        return Verdict(True, [f"alive: last worker loop beat {age:.1f} s ago"])

    def readiness(self) -> Verdict:
        for condition in list(self._probes):
            self._refresh(condition)
        alive = self.liveness()
        with self._lock:
            conditions = dict(self._conditions)
        lines, ok = [], alive.ok
        for name in READY_CONDITIONS:
            state = conditions.get(name)
            if state is None:
                lines.append(f"{name} waiting")
                ok = False
            else:
                lines.append(f"{name} {'ok' if state.ok else 'failed'}{f' ({state.detail})' if state.detail else ''}")
                ok = ok and state.ok
        if not alive.ok:
            lines.append(f"liveness {alive.lines[0]}")
        return Verdict(ok, lines)

    def _refresh(self, condition: str, detail: str | None = None) -> None:
        with self._lock:
            check = self._probes.get(condition)
            last = self._probed_at.get(condition)
            now = self.clock()
            if check is None or (last is not None and now - last < self.probe_interval_s):
                return
            self._probed_at[condition] = now
            previous = self._conditions.get(condition)
        try:
            ok, reason = bool(check()), ""
        except Exception as exc:  # a probe's failure is a "failed" line, never a 500
            ok, reason = False, " ".join(str(exc).split()) or type(exc).__name__
        if detail is None:
            detail = previous.detail if previous is not None else ""
        self.set(condition, ok, reason or detail)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow scraper never holds the worker's exit


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        """Probes every few seconds are not news; the standard handler would write each to stderr."""


def health_app(health: WorkerHealth, registry: CollectorRegistry) -> Callable[..., Iterable[bytes]]:
    """/healthz and /readyz from ``health``; every other path is prometheus_client's exposition."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path not in ("/healthz", "/readyz"):
            return metrics(environ, start_response)
        verdict = health.liveness() if path == "/healthz" else health.readiness()
        body = verdict.text().encode()
        status = "200 OK" if verdict.ok else "503 Service Unavailable"
        start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    return app


class HealthServer:
    """The worker's HTTP server on its own daemon thread; ``port`` 0 picks a free one."""

    def __init__(self, health: WorkerHealth, registry: CollectorRegistry, port: int, host: str = "0.0.0.0") -> None:
        self._server = make_server(
            host, port, health_app(health, registry), server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="dedup-health", daemon=True)
        self._thread.start()
        log.info("metrics, health and readiness on http://%s:%d/metrics, /healthz, /readyz", host, self.port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
