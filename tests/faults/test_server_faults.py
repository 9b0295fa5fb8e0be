"""Faults on a standalone Milvus server: the server killed mid-stream and brought back, and two
workers in one consumer group rebalancing mid-stream. Nothing may be lost (tests/faults/checks.py).

The workers are ``dedup run`` processes, as an operator runs them. The server is killed (SIGTERM,
then SIGKILL: its own shutdown hangs) rather than frozen (SIGSTOP): a freeze shorter than the 30 s
request timeout is only a slow call to the worker, while a kill makes every call fail at once.
"""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Producer

from stream.settings import Settings
from tests.faults.checks import Position, Published, check_zero_loss
from tests.faults.helpers import INVALID_RECORDS, WorkerProcess, catalog_with_copies, publish_invalid, send, wait_until
from tests.faults.server import (
    POLL_S,
    RestartableMilvus,
    Supervised,
    committed_past,
    last_line,
    server_worker_env,
    terminate,
    wait_until_all_committed,
)

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow, pytest.mark.milvus_server]

START_TIMEOUT_S = 150.0  # a worker process: imports, model load, group join, first batches
OUTAGE_S = 5.0  # after the kill: longer than a batch (0.5 s timeout) and several retries (0.2 s .. 2 s)
RECOVERY_TIMEOUT_S = 150.0
MAX_RESTARTS = 2  # a worker that exits when Milvus returns may be restarted; more exits are a crash loop
# The mid-stream publisher's pace: around the join, one listing per interval, so that listings are
# arriving whenever the group rebalances (a second worker takes 15-30 s to start on a shared CPU).
JOIN_FEED_INTERVAL_S = 0.35
LEAVE_FEED_INTERVAL_S = 0.5
SESSION_TIMEOUT_MS = 4_000  # tansu answers a group join after about half of it
# Chunks kept back until a rebalance is under way, so that listings arrive during and after it.
JOIN_RESERVE_CHUNKS = 6  # listings: about 2 s of the stream
LEAVE_RESERVE_CHUNKS = 4


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestartableMilvus]:
    pytest.importorskip("milvus", reason="the standalone Milvus server comes from `pip install milvus==2.3.5`")
    data_dir = tmp_path_factory.mktemp("milvus_server")
    server = RestartableMilvus(data_dir)
    server.start()
    try:
        yield server
    finally:
        server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)  # ~600 MB of unpacked binaries and data


@pytest.fixture
def settings(pipeline_settings: Settings, milvus_server: RestartableMilvus) -> Settings:
    """The test's topics, group and collection, on the server, with short sessions and retries."""
    milvus = {"uri": milvus_server.uri, "index_type": "HNSW"}
    pipeline_settings.milvus = pipeline_settings.milvus.model_copy(update=milvus)
    pipeline_settings.kafka = pipeline_settings.kafka.model_copy(update={"session_timeout_ms": SESSION_TIMEOUT_MS})
    pipeline_settings.worker = pipeline_settings.worker.model_copy(update={"retry_max_backoff_s": 2.0})
    return pipeline_settings


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[[str], WorkerProcess]]:
    """``start_worker(name)``: a ``dedup run`` on the server; every one still running is killed at the end."""
    started: list[WorkerProcess] = []

    def start(name: str) -> WorkerProcess:
        started.append(WorkerProcess(server_worker_env(settings), tmp_path / f"{name}.log"))
        return started[-1]

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill()


def phases(n_products: int, seed: int, parts: int) -> tuple[list[list[dict[str, Any]]], list[list[dict[str, Any]]]]:
    """A catalog's originals in ``parts`` slices, and each slice's exact copies.

    A slice's copies go out only once the slice is committed: an original and its copy processed at
    the same time on two partitions cannot see each other, whatever the fault.
    """
    listings, _pairs = catalog_with_copies(n_products, seed)
    copies = {item["listing_id"]: item for item in listings if item["listing_id"].endswith("-copy")}
    originals = [item for item in listings if not item["listing_id"].endswith("-copy")]
    size = -(-len(originals) // parts)
    slices = [originals[start : start + size] for start in range(0, len(originals), size)]
    copied = [[copies[key] for item in part if (key := f"{item['listing_id']}-copy") in copies] for part in slices]
    return slices, copied


def publish(
    settings: Settings, published: Published, listings: list[dict[str, Any]], invalid: Sequence[bytes] = ()
) -> list[Position]:
    """Publishes listings (and invalid records after them); returns the listings' positions."""
    positions = send(settings, [(str(item["listing_id"]).encode(), orjson.dumps(item)) for item in listings])
    note(published, listings)
    if invalid:
        publish_invalid(settings, list(invalid), published)
    return positions


def note(published: Published, listings: list[dict[str, Any]]) -> None:
    """Valid listings sent, and the pairs their copies make."""
    published.add_valid([str(item["listing_id"]) for item in listings])
    published.expected_pairs.update(
        frozenset((item["listing_id"], item["listing_id"].removesuffix("-copy")))
        for item in listings
        if item["listing_id"].endswith("-copy")
    )


class Feeder:
    """Publishes a stream in chunks, one per ``interval_s``, each time it is called (between polls)."""

    def __init__(
        self, settings: Settings, published: Published, listings: list[dict[str, Any]], chunks: int, interval_s: float
    ) -> None:
        self.topic = settings.topics.listings
        self.published = published
        self.interval_s = interval_s
        size = -(-len(listings) // chunks)
        self.pending = [listings[start : start + size] for start in range(0, len(listings), size)]
        self.sent = 0
        self._next_at = 0.0
        # One producer for the stream: a new one per chunk costs more than the interval.
        self._producer = Producer(settings.kafka.client_config())

    def __call__(self, reserve: int = 0) -> None:
        """Publishes the next chunk when it is due, keeping ``reserve`` chunks back for later."""
        if len(self.pending) > reserve and time.monotonic() >= self._next_at:
            chunk = self.pending.pop(0)
            for item in chunk:
                self._producer.produce(self.topic, key=str(item["listing_id"]).encode(), value=orjson.dumps(item))
            assert self._producer.flush(30) == 0, "a chunk was not delivered"
            note(self.published, chunk)
            self.sent += 1
            self._next_at = time.monotonic() + self.interval_s

    def until_sent(self, chunks: int, check: Callable[[], None]) -> None:
        """Feeds until ``chunks`` in all were sent (or none is left), running ``check`` in between."""

        def done() -> bool:
            check()
            self()
            return self.sent >= chunks or not self.pending

        wait_until(done, 30 + len(self.pending) * self.interval_s * 2, f"{chunks} chunks published")


def test_milvus_killed_mid_stream_and_restarted_loses_nothing(
    settings: Settings, milvus_server: RestartableMilvus, start_worker: Callable[[str], WorkerProcess]
) -> None:
    slices, copies = phases(n_products=60, seed=61, parts=3)
    published = Published()
    publish(settings, published, slices[0], INVALID_RECORDS[:2])
    supervisor = Supervised(lambda run: start_worker(f"run-{run}"), MAX_RESTARTS)
    wait_until_all_committed(settings, START_TIMEOUT_S, supervisor.check)
    assert supervisor.runs == 1, supervisor.exits

    down_at = time.monotonic()
    milvus_server.kill()
    killed_at = time.monotonic()
    try:
        pending = publish(settings, published, slices[1] + copies[0], INVALID_RECORDS[2:4])
        while time.monotonic() - killed_at < OUTAGE_S:
            assert not committed_past(settings, pending), "committed past listings Milvus never stored"
            supervisor.check()
            time.sleep(POLL_S)
        retries = supervisor.worker.log().count("rewinding")
    finally:
        restart_s = milvus_server.start()
    down_s = time.monotonic() - down_at
    assert retries >= 1, f"the worker did not retry while Milvus was down:\n{supervisor.worker.log()[-3000:]}"
    recovery_s = wait_until_all_committed(settings, RECOVERY_TIMEOUT_S, supervisor.check)

    # Still consuming: listings published after the recovery are processed too.
    publish(settings, published, slices[2] + copies[1], INVALID_RECORDS[4:])
    wait_until_all_committed(settings, 60, supervisor.check)
    worker = supervisor.worker
    assert terminate(worker) == 0, worker.log()[-3000:]
    outcome = "; ".join(supervisor.exits) or "the worker survived the outage"
    check_zero_loss(
        settings, published, fault="Milvus server killed mid-stream and restarted", runs=supervisor.runs,
        letters_once=True,
        notes=f"down {down_s:.0f}s (restart {restart_s:.0f}s), {retries} batch retries, all committed "
        f"{recovery_s:.0f}s after; {outcome}",
    )  # fmt: skip


def test_two_workers_in_one_group_rebalancing_mid_stream_lose_nothing(
    settings: Settings, start_worker: Callable[[str], WorkerProcess]
) -> None:
    slices, copies = phases(n_products=130, seed=71, parts=3)
    assert settings.topics.partitions >= 2
    published = Published()
    publish(settings, published, slices[0], INVALID_RECORDS[:2])
    first = start_worker("first")
    wait_until_all_committed(settings, START_TIMEOUT_S, lambda: _assert_running(first))
    assigned = f"assigned {settings.topics.listings}["

    # A second worker joins while listings keep arriving: the group rebalances mid-stream.
    stream = slices[1] + copies[0]
    feeder = Feeder(settings, published, stream, chunks=len(stream), interval_s=JOIN_FEED_INTERVAL_S)
    second = start_worker("second")

    def joined() -> bool:
        _assert_running(first, second)
        feeder(reserve=JOIN_RESERVE_CHUNKS)
        return assigned in second.log()

    wait_until(joined, START_TIMEOUT_S, "the second worker's join")
    sent_before_join = feeder.sent
    feeder.until_sent(feeder.sent + len(feeder.pending), lambda: _assert_running(first, second))
    publish_invalid(settings, INVALID_RECORDS[2:4], published)
    wait_until_all_committed(settings, 120, lambda: _assert_running(first, second))
    assert "revoked" in first.log(), "the first worker never gave up a partition: no rebalance"
    check_zero_loss(
        settings, published, fault="second worker joins mid-stream (rebalance)", runs=2, letters_once=True,
        notes=f"{sent_before_join} of {feeder.sent} listings published one by one before the join",
    )  # fmt: skip

    # The first one leaves on SIGTERM while listings keep arriving: the second takes its partitions.
    feeder = Feeder(settings, published, slices[2] + copies[1], chunks=10, interval_s=LEAVE_FEED_INTERVAL_S)
    feeder.until_sent(2, lambda: _assert_running(first, second))
    assignments = second.log().count(assigned)
    first.process.send_signal(signal.SIGTERM)

    def taken_over() -> bool:
        _assert_running(second)
        feeder(reserve=LEAVE_RESERVE_CHUNKS)
        return first.process.poll() is not None and second.log().count(assigned) > assignments

    wait_until(taken_over, 60, "the first worker's exit and the second's new assignment")
    assert first.process.returncode == 0, first.log()[-3000:]
    feeder.until_sent(feeder.sent + len(feeder.pending), lambda: _assert_running(second))
    wait_until_all_committed(settings, 120, lambda: _assert_running(second))

    # Still consuming: the survivor alone processes what comes next.
    publish(settings, published, copies[2], INVALID_RECORDS[4:])
    wait_until_all_committed(settings, 60, lambda: _assert_running(second))
    assert terminate(second) == 0, second.log()[-3000:]
    check_zero_loss(
        settings, published, fault="one of two workers leaves mid-stream (SIGTERM, rebalance)", runs=2,
        letters_once=True, notes=f"first: {last_line(first.log())}; second: {last_line(second.log())}",
    )  # fmt: skip


def _assert_running(*workers: WorkerProcess) -> None:
    for worker in workers:
        code = worker.process.poll()
        assert code is None, f"{worker.log_path.name} exited {code}:\n{worker.log()[-3000:]}"
