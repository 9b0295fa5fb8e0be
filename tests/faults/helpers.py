"""What the fault tests share: records with known outcomes, publishing with positions, the worker as a process."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka import Producer

from decider.bundle import ModelBundle
from decider.synthetic.generator import generate_catalog
from stream.kafka import ensure_topics
from stream.settings import Settings
from stream.worker.live import Worker
from stream.worker.runtime import Runtime, open_runtime
from tests.faults.checks import Position, Published
from tests.paths import REPO_ROOT
from tests.streaming import committed_and_ends

DEDUP = [sys.executable, "-m", "stream.commands.cli"]
# Above librdkafka's 1,000,000-byte default, as an upstream producer configured for large records would be.
PRODUCER_MAX_BYTES = 5_000_000
POLL_S = 0.2  # polling another process's progress: there is nothing to wait on


def send(settings: Settings, records: Sequence[tuple[bytes | None, bytes]]) -> list[Position]:
    """Publishes (key, value) records in order; returns where each landed (partition, offset)."""
    client = settings.kafka.client_config()
    ensure_topics(client, [settings.topics.listings], settings.topics.partitions)
    producer = Producer({**client, "message.max.bytes": PRODUCER_MAX_BYTES, "enable.idempotence": True})
    positions: list[Position | None] = [None] * len(records)

    def delivered(index: int) -> Callable[[Any, Any], None]:
        def report(error: Any, message: Any) -> None:
            if error is None:
                positions[index] = (message.partition(), message.offset())

        return report

    for index, (key, value) in enumerate(records):
        producer.produce(settings.topics.listings, key=key, value=value, on_delivery=delivered(index))
        producer.poll(0)
    assert producer.flush(30) == 0, "records left undelivered"
    assert all(position is not None for position in positions), "a record was refused by the broker"
    return positions  # type: ignore[return-value]


def publish_valid(settings: Settings, listings: Sequence[dict[str, Any]], published: Published) -> None:
    send(settings, [(str(item["listing_id"]).encode(), orjson.dumps(item)) for item in listings])
    published.add_valid([str(item["listing_id"]) for item in listings])


def publish_invalid(settings: Settings, values: Sequence[bytes], published: Published) -> None:
    positions = send(settings, [(b"poison", value) for value in values])
    published.add_invalid(positions, list(values))


def catalog_with_copies(
    n_products: int, seed: int, *, copy_every: int = 3
) -> tuple[list[dict[str, Any]], set[frozenset[str]]]:
    """A generated catalog plus exact copies (new id, later date) of every ``copy_every``-th listing.

    An exact copy is a duplicate any decider finds: each (original, copy) pair must be emitted.
    """
    listings = [dict(item) for item in generate_catalog(n_products=n_products, seed=seed).listings]
    copies = [
        {**item, "listing_id": f"{item['listing_id']}-copy", "created_at": "2025-06-01T00:00:00Z"}
        for item in listings[::copy_every]
    ]
    pairs = {frozenset((item["listing_id"], f"{item['listing_id']}-copy")) for item in listings[::copy_every]}
    return listings + copies, pairs


def listing(listing_id: str, title: str) -> dict[str, Any]:
    return {"listing_id": listing_id, "title": title, "created_at": "2026-01-01T00:00:00Z"}


# Records every worker must dead-letter, whatever else the test does.
INVALID_RECORDS = [
    b"{not json",
    b"\xff\xfe not utf-8",
    orjson.dumps({"listing_id": "no-title"}),
    orjson.dumps({"listing_id": "number-title", "title": 42}),
    orjson.dumps({"listing_id": "far-future", "title": "Sony TV", "created_at": 1e30}),
    orjson.dumps({"listing_id": "blank", "title": "   "}),
]


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g}s")
        time.sleep(POLL_S)


@dataclass
class PrivateService:
    """A broker or redis-server of one test's own, which the test may stop, freeze or kill."""

    port: int
    process: subprocess.Popen[bytes]
    start: Callable[[], subprocess.Popen[bytes]]  # again, on the same port

    def restart(self) -> None:
        assert self.process.poll() is not None, "restart a stopped service only"
        self.process = self.start()


# --- the worker as a separate process ------------------------------------------------------------


class WorkerProcess:
    """``dedup run`` in its own process, its output in ``log_path``."""

    def __init__(self, env: dict[str, str], log_path: Path, *args: str) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [*DEDUP, "run", *args], env=env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout_s: float) -> None:
        """Until ``text`` is logged; fails at once when the process exits without logging it."""
        def logged() -> bool:
            if text in self.log():
                return True
            code = self.process.poll()
            assert code is None, f"exited {code} before logging {text!r}:\n{self.log()[-3000:]}"
            return False

        wait_until(logged, timeout_s, f"{text!r} in {self.log_path}")

    def kill(self) -> int:
        self.process.kill()  # SIGKILL: no handler, no atexit, no final commit
        return self.process.wait(timeout=30)

    def wait(self, timeout_s: float) -> int:
        return self.process.wait(timeout=timeout_s)


def lite_unlocked(milvus_uri: Path) -> bool:
    """Whether Milvus Lite's advisory lock on the file is free (a killed holder's lock goes with its fds)."""
    lock_path = milvus_uri / "LOCK"
    if not lock_path.exists():
        return True
    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the lock we may have taken
    return True


# --- the worker in this process, on a thread (for faults of the services around it) -------------


@dataclass
class RunningWorker:
    runtime: Runtime
    worker: Worker
    thread: threading.Thread
    errors: list[BaseException] = field(default_factory=list)


@contextmanager
def worker_thread(settings: Settings, model: ModelBundle) -> Iterator[RunningWorker]:
    """``dedup run`` on a thread of this process, stopped (and checked for errors) on leaving."""
    stop = threading.Event()
    with open_runtime(settings, model) as runtime:
        worker = runtime.worker(stop)
        running = RunningWorker(runtime, worker, threading.Thread(target=lambda: None))

        def run() -> None:
            try:
                worker.run()
            except BaseException as exc:  # handed to the test, which fails on it
                running.errors.append(exc)

        running.thread = threading.Thread(target=run, name="fault-worker", daemon=True)
        running.thread.start()
        try:
            yield running
        finally:
            stop.set()
            running.thread.join(120)
    assert not running.thread.is_alive(), "the worker did not stop"
    assert not running.errors, f"the worker failed: {running.errors!r}"


def caught_up(settings: Settings) -> bool:
    """Whether the group has committed every record of the listings topic."""
    committed, ends = committed_and_ends(settings)
    return committed == ends
