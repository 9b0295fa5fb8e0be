"""What ``dedup train`` can be asked to do: the one place its options, their defaults and help live.

The command line's train flags (and the benchmarks' ones) are generated from these fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic.dataclasses import dataclass


@dataclass(frozen=True)
class TrainConfig:
    train_split: str = Field(default="train", description="pairs/<split>.csv the decider learns from")
    valid_split: str = Field(default="valid", description="pairs/<split>.csv that calibrates it and sets its threshold")
    seed: int = Field(default=0, description="seed of every random draw")
    target_precision: float | None = Field(
        default=None, gt=0, lt=1, description="threshold: lowest reaching this precision on valid"
    )
    # Off by default: the decider over a fine-tuned encoder scores lower than over the base encoder,
    # since its trees learn from train pairs the encoder has memorised (README).
    finetune: bool = Field(default=False, description="fine-tune the text encoder first (raises ANN recall; see README)")
    epochs: int = Field(default=3, ge=1, description="fine-tuning epochs")
    # Above fine-tuning's usual rate: better at these few epochs on the labeled sets (README).
    learning_rate: float = Field(default=1e-4, gt=0, description="fine-tuning learning rate")
    max_minutes: float | None = Field(default=12.0, gt=0, description="time box for fine-tuning")
    batch_size: int = Field(default=32, description="fine-tuning batch size")
    mined_neighbours: int = Field(default=10, description="nearest neighbours searched for hard negatives")
    # Helps where the products to match were seen in training, about neutral where they are new (README).
    known_products: bool = Field(
        default=True, description="the known-product features (the train listings kept in the model folder)"
    )
    dim: int = Field(default=128, description="width of the reduced vectors")
    base_model: Path | None = Field(
        default=None,
        description="a local BERT-family model folder to start from (default: the packaged all-MiniLM-L6-v2;"
        " `dedup train` reads DEDUP_ENCODER_TEXT_MODEL_PATH first); without --finetune the worker must be given"
        " the same folder",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="where the encoder runs")
    progress: bool = Field(default=True, description="progress bars on stderr")
