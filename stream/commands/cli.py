"""``dedup``: the parser and the dispatch to each command's module.

Every failure a user can cause ends in one line on stderr. Start-up stays light: a command's
module (and with it torch, transformers, pymilvus, scikit-learn) is imported only when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from confluent_kafka import KafkaException

from decider.datasets.labeled import DatasetError
from decider.errors import DeciderError, ModelError
from decider.training.config import TrainConfig
from encoders.errors import EncoderError, ReducerError
from infra.milvus.errors import StoreError
from infra.stack.errors import StackError
from stream.benchmark.errors import BenchError
from stream.broker import BrokerError
from stream.commands.bench import BENCH_SERVICE_FLAGS, BenchOptions
from stream.commands.check import CHECK_SERVICE_FLAGS, CheckOptions
from stream.commands.exit_codes import EXIT_BROKER_UNAVAILABLE, EXIT_FAILED, EXIT_USAGE
from stream.commands.flags import add_flags, parsed
from stream.commands.options import (
    CLUSTERS_FLAGS,
    METRICS_FLAG,
    SERVICE_FLAGS,
    DemoOptions,
    EvalOptions,
    GenerateOptions,
    PublishOptions,
    ReplayOptions,
    RunOptions,
    StackOptions,
    TrainImageOptions,
    TrainOptions,
    add_service_flags,
    settings_from,
    without,
)
from stream.commands.reindex import add_reindex_parser, parsed_reindex
from stream.logs import configure_logging, default_log_format
from stream.reindex.errors import ReindexError
from stream.replay import ReplayError
from stream.settings import SettingsError

# The failures a user can cause and fix: one line on stderr, exit 1 (3 for the broker). Each lives in a light module
# (no torch, pymilvus or scikit-learn), so naming them here costs start-up nothing.
USER_ERRORS = (
    SettingsError,
    DeciderError,
    ModelError,
    StackError,
    StoreError,
    ReplayError,
    ReindexError,
    DatasetError,
    EncoderError,
    ReducerError,
    KafkaException,
    BenchError,
    FileNotFoundError,
)
# The TrainConfig fields `dedup train` takes; the others keep their defaults.
TRAIN_FLAGS = (
    "train_split",
    "valid_split",
    "seed",
    "target_precision",
    "finetune",
    "known_products",
    "candidates",
    "lexical_candidates",
    "cross_encoder",
    "cross_encoder_minutes",
    "base_model",
    "image_model",
    "photos_root",
    "epochs",
    "learning_rate",
    "max_minutes",
    "device",
)


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus the error; operators asked for just the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"dedup: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="dedup", description="Find duplicate marketplace listings as they are created.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    stack = commands.add_parser("stack", help="the local embedded stack (tansu broker, redis-server, Milvus Lite)")
    add_flags(stack, StackOptions)

    publish = commands.add_parser("publish", help="publish a JSONL file as listing-created events")
    add_flags(publish, PublishOptions)
    add_service_flags(publish, SERVICE_FLAGS)

    run = commands.add_parser("run", help="run the worker")
    add_flags(run, RunOptions)
    add_service_flags(run, SERVICE_FLAGS | METRICS_FLAG)

    replay = commands.add_parser("replay", help="reprocess a range of the topic")
    add_flags(replay.add_mutually_exclusive_group(required=True), ReplayOptions, only=("from_timestamp", "from_offsets"))
    add_flags(replay, ReplayOptions, only=("to_timestamp", "group"))
    add_service_flags(replay, without(SERVICE_FLAGS, "--group"))  # its --group is the replay's own

    add_reindex_parser(commands)

    train = commands.add_parser("train", help="fine-tune the encoder, fit the reducer and the decider on labeled data")
    add_flags(train, TrainOptions)
    add_flags(train, TrainConfig, only=TRAIN_FLAGS)

    train_image = commands.add_parser(
        "train-image", help="pretrain the image encoder (a masked autoencoder ViT) on your own photos"
    )
    add_flags(train_image, TrainImageOptions)

    evaluate = commands.add_parser("eval", help="precision/recall/F1 of a model on labeled data")
    add_flags(evaluate, EvalOptions)
    add_service_flags(evaluate, SERVICE_FLAGS)

    demo = commands.add_parser("demo", help="the whole pipeline on the embedded stack")
    add_flags(demo, DemoOptions)
    add_service_flags(demo, without(SERVICE_FLAGS, "--model"))  # its --model replaces the model it fits

    bench = commands.add_parser("bench", help="worker events/s against the bare encoder, latency at half load, memory")
    add_flags(bench, BenchOptions)
    add_service_flags(bench, {flag: SERVICE_FLAGS[flag] for flag in BENCH_SERVICE_FLAGS})

    check = commands.add_parser("check", help="broker, Milvus, Redis and the model reachable: one line each, exit code")
    add_flags(check, CheckOptions)
    add_service_flags(check, {flag: SERVICE_FLAGS[flag] for flag in CHECK_SERVICE_FLAGS})

    clusters = commands.add_parser("clusters", help="group duplicate pairs into clusters (a faust app), until stopped")
    add_service_flags(clusters, {"--bootstrap-servers": SERVICE_FLAGS["--bootstrap-servers"]} | CLUSTERS_FLAGS)

    generate = commands.add_parser("generate", help="write a synthetic catalog with known duplicates (shared data layout)")
    add_flags(generate, GenerateOptions)
    return parser


def dispatch(args: argparse.Namespace) -> int:
    """The command's typed options (and settings), handed to its module, imported only now."""
    command = args.command
    if command == "stack":
        from stream.commands.stack import cmd_stack

        return cmd_stack(parsed(StackOptions, args))
    if command == "publish":
        from stream.commands.publish import cmd_publish

        return cmd_publish(parsed(PublishOptions, args), settings_from(args))
    if command == "run":
        from stream.commands.run import cmd_run

        return cmd_run(parsed(RunOptions, args), settings_from(args))
    if command == "replay":
        from stream.commands.replay import cmd_replay

        return cmd_replay(parsed(ReplayOptions, args), settings_from(args))
    if command == "reindex":
        from stream.commands.reindex import cmd_reindex

        return cmd_reindex(parsed_reindex(args), settings_from(args))
    if command == "train":
        from stream.commands.train import cmd_train

        return cmd_train(parsed(TrainOptions, args), parsed(TrainConfig, args))
    if command == "train-image":
        from stream.commands.train_image import cmd_train_image

        return cmd_train_image(parsed(TrainImageOptions, args))
    if command == "eval":
        from stream.commands.evaluate import cmd_eval

        return cmd_eval(parsed(EvalOptions, args), settings_from(args))
    if command == "demo":
        from stream.commands.demo import cmd_demo

        return cmd_demo(parsed(DemoOptions, args), settings_from(args))
    if command == "bench":
        from stream.commands.bench import cmd_bench

        return cmd_bench(parsed(BenchOptions, args), settings_from(args))
    if command == "check":
        from stream.commands.check import cmd_check

        return cmd_check(parsed(CheckOptions, args), settings_from(args))
    if command == "clusters":
        from stream.commands.clusters import cmd_clusters

        return cmd_clusters(settings_from(args), args.log_level)
    from stream.commands.generate import cmd_generate

    return cmd_generate(parsed(GenerateOptions, args))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        # Commands without service flags take the environment's format (a bad DEDUP_LOG_FORMAT is one line).
        configure_logging(getattr(args, "log_level", "INFO"), getattr(args, "log_format", None) or default_log_format())
        return dispatch(args)
    except USER_ERRORS as exc:
        print(f"dedup: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_BROKER_UNAVAILABLE if isinstance(exc, BrokerError) else EXIT_FAILED


def one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
