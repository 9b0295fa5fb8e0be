"""What each ``dedup`` command can be asked: its options as typed models, and the service flags.

Flags are generated from these fields (stream.commands.flags); service flags override the
``DEDUP_*`` settings of stream.settings. Light on purpose: the parser imports this at start-up.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from stream.commands.flags import Cli, add_override
from stream.logs import LOG_FORMAT_VARIABLE, LOG_FORMATS, default_log_format
from stream.settings import CONCERNS, DEFAULT_KAFKA_PORT, DEFAULT_REDIS_PORT, DEFAULT_STATE_DIR, Settings, env_variable

DATA_HELP = "a folder in the layout of shared/data/<set>"


@dataclass(frozen=True)
class StackOptions:
    action: Annotated[Literal["up", "down", "status"], Cli(positional=True)]
    state_dir: Path = Field(default=DEFAULT_STATE_DIR, description="where the stack keeps its data and logs")
    kafka_port: int | None = Field(
        default=None, ge=1, description=f"the broker's port (default: the running stack's, else {DEFAULT_KAFKA_PORT})"
    )
    redis_port: int | None = Field(
        default=None, ge=1, description=f"redis-server's port (default: the running stack's, else {DEFAULT_REDIS_PORT})"
    )


@dataclass(frozen=True)
class PublishOptions:
    file: Annotated[Path, Cli(positional=True)] = Field(description="JSONL file, one listing per line")
    all_or_nothing: bool = Field(
        default=False, description="publish nothing when any line is invalid (default: publish the valid lines)"
    )


@dataclass(frozen=True)
class RunOptions:
    max_events: int | None = Field(default=None, ge=1, description="stop after this many events")
    until_idle: Annotated[float | None, Cli(metavar="SECONDS")] = Field(
        default=None, gt=0, description="stop after this long without events"
    )


@dataclass(frozen=True)
class ReplayOptions:
    """Exactly one start: ``from_timestamp`` or ``from_offsets`` (the parser enforces it)."""

    from_timestamp: Annotated[str | None, Cli(metavar="ISO8601")] = Field(default=None, description="replay from here")
    from_offsets: Annotated[str | None, Cli(metavar="P:O[,P:O...]")] = Field(
        default=None, description="replay from these offsets, partition:offset"
    )
    to_timestamp: Annotated[str | None, Cli(metavar="ISO8601")] = Field(
        default=None, description="stop here (default: the partitions' ends when replay starts)"
    )
    group: str | None = Field(
        default=None, description="the replay's own consumer group, committed as it goes (default: a fresh one)"
    )


@dataclass(frozen=True)
class TrainOptions:
    """Where ``dedup train`` reads and writes; what it trains is decider.training.config.TrainConfig."""

    data: Path = Field(description=DATA_HELP)
    out: Path = Field(description="the model folder to write (DEDUP_MODEL_DIR)")
    json: bool = Field(default=False, description="print the report as one JSON object")


@dataclass(frozen=True)
class TrainImageOptions:
    """``dedup train-image``: MAE pretraining of the image encoder (encoders.training.mae holds the other defaults)."""

    images: Path = Field(description="a folder of photos (jpg/png/webp, recursive) or an images.csv (its train split)")
    out: Path = Field(description="the image model folder to write (must not exist or be empty)")
    max_minutes: float | None = Field(
        default=None, gt=0, description="training time box (default: 10 on a CPU, none on a GPU)"
    )
    epochs: int | None = Field(default=None, ge=1, description="passes over the photos (default 300)")
    size: Literal["small", "base"] = Field(
        default="small", description="small: ViT 128px/16, 192 wide, 6 deep (CPU); base: ViT-B/16 at 224 (GPU)"
    )
    device: str = Field(default="auto", description="auto, cpu, cuda or cuda:N")
    seed: int = Field(default=0, description="seed of the weights, crops and masks")
    json: bool = Field(default=False, description="print the report as one JSON object")


@dataclass(frozen=True)
class EvalOptions:
    data: Path = Field(description=DATA_HELP)
    split: str = Field(default="test", description="pairs/<split>.csv to score")
    stream: bool = Field(
        default=False, description="stream every listing through the real pipeline and compare pairs found"
    )
    seed: int = Field(
        default=7, description="--stream: the shuffle of the listings; photo sets: the hard-negative sample"
    )
    state_dir: Path | None = Field(
        default=None,
        description="--stream: the embedded stack's folder (default: a fresh temporary one; free ports unless a stack"
        " runs there)",
    )
    baselines: bool = Field(default=True, description="the TF-IDF and raw-embedding baselines")
    pairs_out: Path | None = Field(
        default=None,
        description="--stream: write every reported pair and every missed known pair with its verdict (known"
        " duplicate or not; missed as no candidate or below threshold) and score to this CSV",
    )
    image_model: Path | None = Field(
        default=None,
        description="photo sets (images.csv): the image encoder folder (dedup train-image); without it only"
        " the perceptual hash is scored",
    )
    json: bool = Field(default=False, description="print one JSON object")


@dataclass(frozen=True)
class DemoOptions:
    data: Path | None = Field(default=None, description=f"{DATA_HELP} (default: generated)")
    products: int = Field(default=400, ge=1, description="generated catalog size (no --data)")
    seed: int = Field(default=7, description="seed of the generated catalog and of the listings' shuffle")
    state_dir: Path | None = Field(
        default=None,
        description=f"the embedded stack's folder, and where fitted models are kept (default: the stack in a fresh"
        f" temporary folder on free ports, the models in {DEFAULT_STATE_DIR})",
    )
    model: Path | None = Field(
        default=None, description="model folder (default: one fitted for the data, kept for next time)"
    )
    show: int = Field(default=15, description="duplicate pairs to print")
    json: bool = Field(default=False, description="print the figures as one JSON object")
    photos: bool = Field(
        default=True,
        description="generated catalog: render product photos and match on them too (--no-photos: text only)",
    )
    image_model: Path | None = Field(
        default=None, description="a `dedup train-image` folder: photos are also embedded and compared"
    )


@dataclass(frozen=True)
class GenerateOptions:
    out: Path = Field(description="dataset folder to write")
    products: int = Field(default=1000, ge=0, description="distinct products")
    seed: int = Field(default=0, description="seed of every random draw")
    duplicate_rate: float = Field(default=0.35, ge=0, le=1, description="share of products listed more than once")
    near_miss_rate: float = Field(default=0.25, ge=0, le=1, description="share of products that are near misses")
    negatives_per_positive: int = Field(default=3, ge=0, description="non-duplicate pairs sampled per duplicate pair")
    valid_fraction: float = Field(
        default=0.2, ge=0, le=1, description="share of product families whose pairs go to pairs/valid.csv"
    )
    images: Path | None = Field(
        default=None,
        description="also render product photos into this folder; each listing's image is a path relative to it",
    )
    overwrite: bool = Field(default=False, description="replace a dataset already in --out (and photos in --images)")


# Flag -> (concern, field) of stream.settings.Settings.
SERVICE_FLAGS: dict[str, tuple[str, str]] = {
    "--bootstrap-servers": ("kafka", "bootstrap_servers"),
    "--group": ("kafka", "group_id"),
    "--topic": ("topics", "listings"),
    "--milvus-uri": ("milvus", "uri"),
    "--collection": ("milvus", "collection"),
    "--redis-url": ("redis", "url"),
    "--model": ("model", "model_dir"),
    "--batch-size": ("worker", "batch_max_size"),
    "--batch-timeout": ("worker", "batch_timeout_s"),
    "--device": ("encoder", "device"),
}
METRICS_FLAG = {"--metrics-port": ("worker", "metrics_port")}
# `dedup clusters`: its faust app's id (its consumer group and topic prefix) and web port.
CLUSTERS_FLAGS = {"--app-id": ("clusters", "app_id"), "--web-port": ("clusters", "web_port")}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def add_service_flags(parser: argparse.ArgumentParser, flags: dict[str, tuple[str, str]]) -> None:
    """``flags`` (a selection of SERVICE_FLAGS), --log-level and --log-format; unset flags leave the
    environment's value."""
    group = parser.add_argument_group("services (override DEDUP_* environment variables)")
    for flag, (concern, field) in flags.items():
        cls = CONCERNS[concern]
        add_override(group, flag, f"{concern}.{field}", cls.model_fields[field], env_variable(cls, field))
    group.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, default=os.environ.get("DEDUP_LOG_LEVEL", "INFO").upper()
    )
    group.add_argument(
        "-v", "--verbose", dest="log_level", action="store_const", const="DEBUG",
        help="--log-level DEBUG, librdkafka's own log lines included",
    )  # fmt: skip
    group.add_argument(
        "--log-format", type=str.lower, choices=LOG_FORMATS, default=default_log_format(),
        help=f"text lines, or one JSON object per line (level, logger, message, timestamp); {LOG_FORMAT_VARIABLE}",
    )  # fmt: skip


def without(flags: dict[str, tuple[str, str]], *names: str) -> dict[str, tuple[str, str]]:
    return {flag: target for flag, target in flags.items() if flag not in names}


def settings_from(args: argparse.Namespace) -> Settings:
    """The environment's settings with the service flags given on top."""
    overrides: dict[str, dict[str, object]] = {concern: {} for concern in CONCERNS}
    for concern, field in (SERVICE_FLAGS | METRICS_FLAG | CLUSTERS_FLAGS).values():
        overrides[concern][field] = getattr(args, f"{concern}.{field}", None)  # absent from a command: unset
    return Settings(**overrides)
