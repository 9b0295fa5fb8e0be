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
    # As many as the worker brings by default (DEDUP_MILVUS_CANDIDATES / _LEXICAL_CANDIDATES), so that the
    # threshold is chosen on the mix of duplicates and near-misses the stream meets.
    candidates: int = Field(default=20, ge=0, description="nearest neighbours mined per listing as labeled pairs")
    lexical_candidates: int = Field(
        default=30, ge=0, description="best BM25 matches mined per listing as labeled pairs"
    )
    max_mined_pairs: int = Field(
        default=60_000, ge=1, description="train pairs mined at most (all duplicates, a sample of the rest)"
    )
    # Helps where the products to match were seen in training, costs F1 where they are new (README): by
    # default each run tries both and keeps what scores better on valid.
    known_products: bool | None = Field(
        default=None,
        description="the known-product features (the train listings kept in the model folder; default: chosen"
        " on valid)",
    )
    dim: int = Field(default=128, description="width of the reduced vectors")
    base_model: Path | None = Field(
        default=None,
        description="a local BERT-family model folder to start from (default: the packaged all-MiniLM-L6-v2;"
        " `dedup train` reads DEDUP_ENCODER_TEXT_MODEL_PATH first); without --finetune the worker must be given"
        " the same folder",
    )
    # None: train it, keep it only if it beats the trees on valid F1 (decider.training.cross_encoder).
    cross_encoder: bool | None = Field(
        default=None,
        description="a pair cross-encoder for the pairs the trees are unsure of (default: kept if it wins on valid)",
    )
    # About 80 steps of 32 pairs on two CPU cores; a GPU finishes the epochs well within it.
    cross_encoder_minutes: float = Field(default=5.0, gt=0, description="time box for fine-tuning the cross-encoder")
    cross_encoder_epochs: int = Field(default=2, ge=1, description="cross-encoder fine-tuning epochs")
    image_model: Path | None = Field(
        default=None,
        description="a `dedup train-image` folder: photos are embedded and compared (and the model carries it);"
        " without it photos give perceptual hashes only",
    )
    photos_root: Path | None = Field(
        default=None, description="folder the listings' photo paths are relative to (default: the data folder)"
    )
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="where the encoder runs")
    progress: bool = Field(default=True, description="progress bars on stderr")
