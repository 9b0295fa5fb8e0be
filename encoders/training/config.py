"""What a fine-tuning run is asked to do (``FinetuneConfig``) and what it did (``FinetuneReport``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class FinetuneConfig:
    """Training knobs; ``temperature`` 0.05 is sentence-transformers' default scale of 20.

    ``max_minutes`` time-boxes the training loop for CPU runs: it is checked after each step, so at
    least one step runs, and loading and saving come on top. The learning-rate schedule is planned
    for all ``epochs`` either way, so a cut run stops at a higher learning rate than a full one.
    """

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    max_length: int = 64
    temperature: float = 0.05
    hard_negatives_per_anchor: int = 1
    seed: int = 0
    max_minutes: float | None = None
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "epochs must be >= 1": self.epochs >= 1,
            "batch_size must be >= 2 (in-batch negatives need another pair)": self.batch_size >= 2,
            "learning_rate must be > 0": self.learning_rate > 0,
            "warmup_ratio must be within [0, 1]": 0 <= self.warmup_ratio <= 1,
            "max_length must be >= 2 (room for [CLS] and [SEP])": self.max_length >= 2,
            "temperature must be > 0": self.temperature > 0,
            "hard_negatives_per_anchor must be >= 0": self.hard_negatives_per_anchor >= 0,
            "max_minutes must be > 0 or None": self.max_minutes is None or self.max_minutes > 0,
            "weight_decay must be >= 0": self.weight_decay >= 0,
            "max_grad_norm must be > 0": self.max_grad_norm > 0,
        }
        failed = [rule for rule, holds in checks.items() if not holds]
        if failed:
            raise ValueError(f"invalid FinetuneConfig: {'; '.join(failed)} (got {self!r})")


@dataclass(frozen=True)
class FinetuneReport:
    """What a run did. ``seconds`` is the training loop's wall time (what ``max_minutes`` bounds)."""

    steps: int
    epochs_done: float
    seconds: float
    loss_first: float
    loss_last: float
    out_dir: Path
    steps_planned: int
    losses: tuple[float, ...] = field(repr=False)

    @property
    def stopped_early(self) -> bool:
        return self.steps < self.steps_planned

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0
