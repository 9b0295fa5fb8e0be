"""SIGTERM/SIGINT for the commands that consume: a drain of the batch in hand, bounded in time.

The first signal stops polling; the worker finishes and commits the batch in hand, then exits 0. If
that takes longer than ``shutdown_grace_s``, or a second signal comes, the process exits non-zero at
once without committing: the next owner of the partitions processes that batch again, which is safe
(idempotent upserts, deterministic event ids).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from stream.commands.exit_codes import EXIT_FAILED

log = logging.getLogger("dedup")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def exit_uncommitted(reason: str) -> None:
    """Leaves at once: no commit, no cleanup that could hang (a flush, a close)."""
    log.error("%s: exiting without committing the batch in hand", reason)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_FAILED)


class BoundedDrain:
    """``stop`` is set by the first request; ``abort`` runs on a second one or ``grace_s`` after the first."""

    def __init__(self, grace_s: float, abort: Callable[[str], None] = exit_uncommitted) -> None:
        self.stop = threading.Event()
        self.grace_s = grace_s
        self.abort = abort
        self._deadline: threading.Timer | None = None

    def request(self, cause: str) -> None:
        if self.stop.is_set():
            self.abort(f"{cause} received again")
            return
        log.info("%s received: finishing the batch in hand", cause)
        self.stop.set()
        self._deadline = threading.Timer(
            self.grace_s, self.abort, args=(f"still busy {self.grace_s:g} s after the stop signal (shutdown_grace_s)",)
        )
        self._deadline.daemon = True
        self._deadline.start()

    def cancel(self) -> None:
        """The drain finished in time."""
        if self._deadline is not None:
            self._deadline.cancel()


@contextmanager
def stop_on_signals(grace_s: float) -> Iterator[threading.Event]:
    """An event set by SIGTERM/SIGINT, for the worker to stop on; the previous handlers come back after."""
    drain = BoundedDrain(grace_s)
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        signal.signal(number, lambda received, _frame: drain.request(signal.Signals(received).name))
    try:
        yield drain.stop
    finally:
        drain.cancel()
        for number, handler in previous.items():
            signal.signal(number, handler)
