"""``--until-idle``: how long the consumer has been polled with nothing to give.

Only time spent inside polls counts, and only while the group has given this worker its
assignment (an empty one included: a worker with no partition has nothing to give). Processing a
batch, committing, backing off after a failure, and waiting for a (re)join never count, and any
assignment change starts the count again, so a broker freeze followed by a rebalance does not end
the worker while the partitions it gets back still hold listings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from stream.worker.batching import PartitionKey


class IdleTimer:
    """Idle seconds from polls that returned nothing; fed by the worker's poll and rebalance callbacks."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.idle_s = 0.0
        self.assignment: set[PartitionKey] = set()
        self.joined = False  # the group answered our (re)join with an assignment, maybe empty
        self.waiting_since = clock()  # when the worker last became unjoined
        self._changed_at = -math.inf

    def assigned(self, partitions: Iterable[PartitionKey]) -> None:
        self.assignment.update(partitions)
        self.joined = True
        self._restart()

    def revoked(self, partitions: Iterable[PartitionKey]) -> None:
        """A partial revocation keeps the rest (cooperative rebalancing); losing all means rejoining."""
        self.assignment.difference_update(partitions)
        if not self.assignment and self.joined:
            self.joined = False
            self.waiting_since = self.clock()
        self._restart()

    def polled(self, started: float, ended: float, *, got_messages: bool) -> None:
        """One poll from ``started`` to ``ended``; only the part after the latest assignment change counts."""
        if got_messages:
            self.idle_s = 0.0
        elif self.joined:
            self.idle_s += max(ended - max(started, self._changed_at), 0.0)

    def busy(self) -> None:
        """Something needs doing after all (e.g. the broker shows messages not consumed yet)."""
        self.idle_s = 0.0

    def unjoined_for(self) -> float:
        return 0.0 if self.joined else self.clock() - self.waiting_since

    def _restart(self) -> None:
        self.idle_s = 0.0
        self._changed_at = self.clock()
