"""The guard against giant clusters built from chains of weak matches.

Each pair is judged alone by the decider, so a chain a~b~c~… of links that are each 0.9 likely can join
unrelated products. The guard asks more of a link the larger the cluster it would make: a merge into a
cluster of ``n`` listings needs a score of at least ``1 - (1 - base_score) * free_size / n`` once ``n``
passes ``free_size`` (the chance the link is wrong must shrink as the cluster grows), and any merge past
``max_size`` goes to review instead. Links inside one cluster never grow it and are always kept.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    reason: str = ""  # why a merge was routed to review


@dataclass(frozen=True)
class Guard:
    free_size: int = 8
    base_score: float = 0.9
    max_size: int = 100

    def __post_init__(self) -> None:
        if not 2 <= self.free_size <= self.max_size:
            raise ValueError("the guard needs 2 <= free_size <= max_size")
        if not 0.0 <= self.base_score < 1.0:
            raise ValueError("the guard's base_score must be in [0, 1)")

    def required_score(self, size: int) -> float:
        """The least score a link needs to make a cluster of ``size`` listings (0: the decider's verdict)."""
        if size <= self.free_size:
            return 0.0
        return 1.0 - (1.0 - self.base_score) * self.free_size / size

    def judge(self, size_after: int, score: float) -> Verdict:
        if size_after > self.max_size:
            return Verdict(False, f"a cluster of {size_after} is over the cap of {self.max_size}")
        required = self.required_score(size_after)
        if score < required:
            return Verdict(False, f"a cluster of {size_after} needs a score of {required:.4f}, got {score:.4f}")
        return Verdict(True)
