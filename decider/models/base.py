"""The decider interface: every decider scores candidate pairs with a calibrated probability."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from decider.errors import DeciderError
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


def read_decider_json(path: Path, kind: str) -> dict[str, Any]:
    """A decider's saved JSON, or DeciderError saying in one line why it cannot be read as a ``kind`` decider."""
    try:
        payload = json.loads(path.read_text())
    except FileNotFoundError:
        raise DeciderError(f"no decider at {path.parent} ({path.name} missing)") from None
    except json.JSONDecodeError as exc:
        raise DeciderError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(payload, dict) or payload.get("kind") != kind:
        found = payload.get("kind") if isinstance(payload, dict) else type(payload).__name__
        raise DeciderError(f"{path} holds a {found!r} decider, expected {kind!r}")
    return payload
