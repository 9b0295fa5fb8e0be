"""Fault injection for the fault suite (``pytest -m faults``); off unless its variable is set.

``DEDUP_FAULT_KILL_BEFORE_COMMIT=N`` makes the worker SIGKILL itself after its Nth batch was
upserted and delivered but before that batch's offsets are committed: the one moment a random
``kill -9`` rarely hits, made deterministic. Read once, when the worker module is imported (start-up);
never set it in production. It lives here, apart from ``stream.settings``, so that no operator-facing
setting, flag or ``--help`` line mentions it.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

KILL_BEFORE_COMMIT_ENV = "DEDUP_FAULT_KILL_BEFORE_COMMIT"


class KillBeforeCommit:
    """Counts batches about to be committed and kills the process at the ``nth`` (None: never)."""

    def __init__(self, nth: int | None, kill: Callable[[], None] | None = None) -> None:
        if nth is not None and nth < 1:
            raise ValueError(f"{KILL_BEFORE_COMMIT_ENV}={nth}: expected a batch number from 1")
        self.nth = nth
        self.batches = 0
        self._kill = kill or _sigkill_self

    def __call__(self) -> None:
        if self.nth is None:
            return
        self.batches += 1
        if self.batches == self.nth:
            log.warning("%s=%d: killing this process before its commit", KILL_BEFORE_COMMIT_ENV, self.nth)
            self._kill()


def from_environment(environ: Mapping[str, str] = os.environ) -> KillBeforeCommit:
    raw = environ.get(KILL_BEFORE_COMMIT_ENV, "").strip()
    if not raw:
        return KillBeforeCommit(None)
    try:
        nth = int(raw)
    except ValueError:
        raise ValueError(f"{KILL_BEFORE_COMMIT_ENV}={raw!r}: expected a batch number from 1") from None
    return KillBeforeCommit(nth)


def _sigkill_self() -> None:
    # Logging handlers may buffer: flush so the test's log shows why the process vanished.
    logging.shutdown()
    os.kill(os.getpid(), signal.SIGKILL)


# The worker calls this between delivery and commit (stream.worker.live).
before_commit = from_environment()
