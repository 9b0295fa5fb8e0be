"""The latency part: listings published at a fixed offered load, each timed to its outcome.

Open loop: listing ``i`` is due at ``start + i / rate`` whatever the worker does, and one that falls
behind is sent at once rather than skipped, so a slow worker shows up as latency, not as a lower load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from confluent_kafka import Producer

from stream.benchmark.errors import BenchError

LATENCY_BASIS = (
    "publish call -> duplicate-found event acknowledged by the broker, for listings with a duplicate;"
    " publish call -> the worker's offset commit past the listing, for the others (one in-process monotonic clock)"
)


@dataclass
class Pacer:
    """When each of a run of sends is due, at ``rate`` per second from the first one."""

    rate: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _start: float | None = None

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise BenchError(f"the offered load must be positive, got {self.rate}")

    def wait_turn(self, index: int) -> None:
        if self._start is None:
            self._start = self.clock()
        delay = self._start + index / self.rate - self.clock()
        if delay > 0:
            self.sleep(delay)

    def achieved_rate(self, sent: int) -> float | None:
        """Sends per second over the paced span (``sent - 1`` gaps between the first and the last send)."""
        if self._start is None or sent < 2:
            return None
        span = self.clock() - self._start
        return (sent - 1) / span if span > 0 else None


@dataclass
class PacedPublisher:
    """Publishes ``listings`` on a thread, each at its turn; ``published_at`` is when each send was made."""

    producer: Producer
    topic: str
    listings: Sequence[Mapping[str, Any]]
    pacer: Pacer
    ready: Callable[[], bool] = lambda: True  # e.g. the worker is polling: a send before that times the join
    ready_timeout_s: float = 60.0
    stop: threading.Event = field(default_factory=threading.Event)  # the worker gave up: stop sending
    published_at: dict[str, float] = field(default_factory=dict)
    achieved_per_s: float | None = None
    error: BaseException | None = None
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bench-publisher", daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise BenchError(f"the paced publisher failed: {self.error}") from self.error

    def _run(self) -> None:
        try:
            wait_until(self._ready_or_stopped, self.ready_timeout_s, self.pacer.clock, self.pacer.sleep)
            for index, listing in enumerate(self.listings):
                self.pacer.wait_turn(index)
                if self.stop.is_set():
                    return
                self.published_at[listing["listing_id"]] = self.pacer.clock()
                self.producer.produce(self.topic, key=listing["listing_id"], value=orjson.dumps(listing))
                self.producer.poll(0)  # serve delivery reports so the local queue never fills
            self.achieved_per_s = self.pacer.achieved_rate(len(self.listings))
            if self.producer.flush(30.0):
                raise BenchError("the broker did not acknowledge every paced listing within 30 s")
        except BaseException as exc:  # handed to join(), on the worker's thread
            self.error = exc

    def _ready_or_stopped(self) -> bool:
        return self.stop.is_set() or self.ready()


def wait_until(
    condition: Callable[[], bool], timeout_s: float, clock: Callable[[], float], sleep: Callable[[float], None]
) -> bool:
    deadline = clock() + timeout_s
    while not condition():
        if clock() >= deadline:
            return False
        sleep(0.05)
    return True


def latencies_s(
    published_at: Mapping[str, float], duplicate_at: Mapping[str, float], committed_at: Mapping[str, float]
) -> tuple[list[float], list[float], int]:
    """Every listing's latency, the duplicates' alone, and how many listings were never seen done."""
    every: list[float] = []
    duplicates: list[float] = []
    missing = 0
    for listing_id, sent in published_at.items():
        if listing_id in duplicate_at:
            duplicates.append(duplicate_at[listing_id] - sent)
            every.append(duplicates[-1])
        elif listing_id in committed_at:
            every.append(committed_at[listing_id] - sent)
        else:
            missing += 1
    return every, duplicates, missing
