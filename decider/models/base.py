"""The decider interface: every decider scores candidate pairs with a calibrated probability."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from decider.pairs import CandidatePairs


@runtime_checkable
class Decider(Protocol):
    name: str
    version: str
    threshold: float

    def score(self, pairs: CandidatePairs) -> np.ndarray:
        """Probability that each pair is the same product, shape (len(pairs),)."""
        ...

    def explain(self, pairs: CandidatePairs) -> list[str]:
        """A short human-readable reason per pair, carried in duplicate-found events."""
        ...

    def save(self, directory: Path) -> None: ...
