"""``dedup``: the command line. Every failure a user can cause ends in one line on stderr."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from confluent_kafka import KafkaException

from decider.datasets.labeled import DatasetError
from decider.errors import DeciderError, ModelError
from encoders.errors import EncoderError, ReducerError
from infra.milvus.errors import StoreError
from infra.stack.local import MILVUS, ComponentStatus, StackError
from stream.replay import ReplayError
from stream.settings import DEFAULT_STATE_DIR, Settings, SettingsError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
USER_ERRORS = (
    SettingsError,
    DeciderError,
    StackError,
    ModelError,
    StoreError,
    ReplayError,
    DatasetError,
    EncoderError,
    ReducerError,
    KafkaException,
    FileNotFoundError,
)
log = logging.getLogger("dedup")


class OneLineParser(argparse.ArgumentParser):
    """argparse prints usage plus the error; operators asked for just the error."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"dedup: error: {message} (see `{self.prog} --help`)\n")


def positive_int(text: str) -> int:
    value = _number(text, int)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def probability(text: str) -> float:
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = _number(text, int, "an integer")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def fraction(text: str) -> float:
    value = _number(text, float)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be within [0, 1], got {text}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _number(text: str, kind: Callable[[str], Any], what: str = "a number") -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None


def service_options(*, live_group_flag: bool = True) -> argparse.ArgumentParser:
    """Flags that override DEDUP_* variables; unset flags leave the environment's value."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("services (override DEDUP_* environment variables)")
    group.add_argument("--bootstrap-servers", help="Kafka bootstrap servers [DEDUP_KAFKA_BOOTSTRAP_SERVERS]")
    if live_group_flag:
        group.add_argument("--group", dest="group_id", help="consumer group [DEDUP_KAFKA_GROUP_ID]")
    group.add_argument("--topic", help="listing-created topic [DEDUP_TOPIC_LISTINGS]")
    group.add_argument("--milvus-uri", help="Milvus Lite file or http://host:19530 [DEDUP_MILVUS_URI]")
    group.add_argument("--collection", help="Milvus collection [DEDUP_MILVUS_COLLECTION]")
    group.add_argument("--redis-url", help="redis://host:port/db [DEDUP_REDIS_URL]")
    group.add_argument("--model", type=Path, help="model folder [DEDUP_MODEL_DIR]")
    group.add_argument("--batch-size", type=positive_int, help="micro-batch size [DEDUP_WORKER_BATCH_MAX_SIZE]")
    group.add_argument("--batch-timeout", type=positive_float, help="seconds [DEDUP_WORKER_BATCH_TIMEOUT_S]")
    group.add_argument("--device", choices=["auto", "cpu", "cuda"], help="encoder device [DEDUP_ENCODER_DEVICE]")
    group.add_argument(
        "--log-level", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        default=os.environ.get("DEDUP_LOG_LEVEL", "INFO").upper(),
    )
    return parent


def settings_from(args: argparse.Namespace) -> Settings:
    get = lambda name: getattr(args, name, None)  # noqa: E731 - flags absent from a subcommand read as unset
    return Settings(
        kafka={"bootstrap_servers": get("bootstrap_servers"), "group_id": get("group_id")},
        topics={"listings": get("topic")},
        milvus={"uri": get("milvus_uri"), "collection": get("collection")},
        redis={"url": get("redis_url")},
        encoder={"device": get("device")},
        model={"model_dir": get("model")},
        worker={"batch_max_size": get("batch_size"), "batch_timeout_s": get("batch_timeout"), "metrics_port": get("metrics_port")},
    )


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="dedup", description="Find duplicate marketplace listings as they are created.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    services = service_options()

    stack = commands.add_parser("stack", help="the local embedded stack (tansu broker, redis-server, Milvus Lite)")
    stack.add_argument("action", choices=["up", "down", "status"])
    stack.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    stack.add_argument("--kafka-port", type=positive_int, default=19092)
    stack.add_argument("--redis-port", type=positive_int, default=16379)
    stack.set_defaults(handler=cmd_stack)

    publish = commands.add_parser("publish", parents=[services], help="publish a JSONL file as listing-created events")
    publish.add_argument("file", type=Path)
    publish.set_defaults(handler=cmd_publish)

    run = commands.add_parser("run", parents=[services], help="run the worker")
    run.add_argument("--max-events", type=positive_int, help="stop after this many events")
    run.add_argument("--until-idle", type=positive_float, metavar="SECONDS", help="stop after this long without events")
    run.add_argument("--metrics-port", type=positive_int, help="serve Prometheus metrics on this port")
    run.set_defaults(handler=cmd_run)

    replay = commands.add_parser(
        "replay", parents=[service_options(live_group_flag=False)], help="reprocess a range of the topic"
    )
    start = replay.add_mutually_exclusive_group(required=True)
    start.add_argument("--from-timestamp", metavar="ISO8601")
    start.add_argument("--from-offsets", metavar="P:O[,P:O...]")
    replay.add_argument("--to-timestamp", metavar="ISO8601")
    replay.add_argument(
        "--group", dest="replay_group", help="the replay's own consumer group, committed as it goes (default: a fresh one)"
    )
    replay.set_defaults(handler=cmd_replay)

    train = commands.add_parser("train", help="fine-tune the encoder, fit the reducer and the decider on labeled data")
    train.add_argument("--data", type=Path, required=True, help="a folder in the layout of shared/data/<set>")
    train.add_argument("--train-split", default="train")
    train.add_argument("--valid-split", default="valid")
    train.add_argument("--out", type=Path, required=True, help="the model folder to write (DEDUP_MODEL_DIR)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--target-precision", type=probability, help="threshold: lowest reaching this precision on valid")
    train.add_argument(
        "--finetune", action="store_true", help="fine-tune the text encoder first (raises ANN recall; see README)"
    )
    train.add_argument(
        "--no-known-products",
        dest="known_products",
        action="store_false",
        help="leave out the known-product features (the train listings kept in the model folder)",
    )
    train.add_argument(
        "--base-model",
        type=Path,
        help="a local BERT-family model folder to start from (default: DEDUP_ENCODER_TEXT_MODEL_PATH, else the"
        " packaged all-MiniLM-L6-v2); without --finetune the worker must be given the same folder",
    )
    train.add_argument("--epochs", type=positive_int, default=3)
    train.add_argument("--learning-rate", type=positive_float, default=1e-4)
    train.add_argument("--max-minutes", type=positive_float, default=12.0, help="time box for fine-tuning")
    train.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    train.add_argument("--json", action="store_true", help="print the report as one JSON object")
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser("eval", parents=[services], help="precision/recall/F1 of a model on labeled data")
    evaluate.add_argument("--data", type=Path, required=True, help="a folder in the layout of shared/data/<set>")
    evaluate.add_argument("--split", default="test", help="pairs/<split>.csv to score (default test)")
    evaluate.add_argument(
        "--stream", action="store_true", help="stream every listing through the real pipeline and compare pairs found"
    )
    evaluate.add_argument("--seed", type=int, default=7, help="--stream: the shuffle of the listings")
    evaluate.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR, help="--stream: the embedded stack")
    evaluate.add_argument("--no-baselines", action="store_true", help="skip the TF-IDF and raw-embedding baselines")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(handler=cmd_eval)

    demo = commands.add_parser("demo", parents=[services], help="the whole pipeline on the embedded stack")
    demo.add_argument("--data", type=Path, help="a folder in the layout of shared/data/<set> (default: generated)")
    demo.add_argument("--products", type=positive_int, default=400, help="generated catalog size (no --data)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    demo.add_argument("--show", type=int, default=15, help="duplicate pairs to print")
    demo.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    demo.set_defaults(handler=cmd_demo)

    generate = commands.add_parser("generate", help="write a synthetic catalog with known duplicates (shared data layout)")
    generate.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    generate.add_argument("--products", type=non_negative_int, default=1000, help="distinct products (default 1000)")
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--duplicate-rate", type=fraction, default=0.35, help="share of products listed more than once")
    generate.add_argument("--near-miss-rate", type=fraction, default=0.25, help="share of products that are near misses")
    generate.add_argument("--negatives-per-positive", type=non_negative_int, default=3)
    generate.add_argument("--valid-fraction", type=fraction, default=0.2)
    generate.add_argument("--overwrite", action="store_true", help="replace a dataset already in --out")
    generate.set_defaults(handler=cmd_generate)
    return parser


def cmd_stack(args: argparse.Namespace) -> int:
    from infra.stack.local import LocalStack

    stack = LocalStack(args.state_dir, kafka_port=args.kafka_port, redis_port=args.redis_port)
    if args.action == "down":
        stopped = stack.down()
        print(f"stopped: {', '.join(stopped) if stopped else 'nothing (no component started by `dedup stack up`)'}")
        return EXIT_OK
    status = stack.up() if args.action == "up" else stack.status()
    for component in status.components:
        print(f"{component.name:8} {component_state(component):10} {component.endpoint}")
    if all(component.running for component in status.components):
        print(f"export DEDUP_KAFKA_BOOTSTRAP_SERVERS={status.kafka_bootstrap}")
        print(f"export DEDUP_REDIS_URL={status.redis_url}")
        print(f"export DEDUP_MILVUS_URI={status.milvus_uri}")
    return EXIT_OK


def component_state(component: ComponentStatus) -> str:
    if component.name == MILVUS:
        # Milvus Lite has no process of its own: each worker opens the file in-process.
        return "embedded"
    return f"running (pid {component.pid})" if component.running else "stopped"


def cmd_publish(args: argparse.Namespace) -> int:
    from stream.publish import publish_file

    settings = settings_from(args)
    report = publish_file(settings, args.file)
    for line_number, reason in report.invalid:
        print(f"{args.file}:{line_number}: {reason}", file=sys.stderr)
    print(f"published {report.published} events to {settings.topics.listings}; {len(report.invalid)} invalid lines skipped")
    return EXIT_FAILED if report.invalid else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from stream.worker.runtime import open_runtime

    settings = settings_from(args)
    stop = install_stop_handlers()
    with open_runtime(settings) as runtime:
        worker = runtime.worker(stop)
        if settings.worker.metrics_port:
            worker.metrics.serve(settings.worker.metrics_port)
        metrics = worker.run(max_events=args.max_events, until_idle=args.until_idle)
    print(
        f"processed {metrics.processed} listings, {metrics.duplicates} duplicate-found events, "
        f"{metrics.dead_lettered} dead letters, {metrics.retries} retries"
    )
    return EXIT_OK


def cmd_replay(args: argparse.Namespace) -> int:
    from stream.commands.replay import run_replay

    settings = settings_from(args)
    result = run_replay(settings, args, install_stop_handlers())
    print(
        f"replayed {sum(r.size for r in result.ranges)} messages over {len(result.ranges)} partitions: "
        f"{result.processed} listings, {result.duplicates} duplicate-found events, {result.dead_lettered} dead letters"
    )
    return EXIT_OK


def cmd_train(args: argparse.Namespace) -> int:
    import orjson

    from decider.training.config import TrainConfig
    from decider.training.job import train_model

    config = TrainConfig(
        train_split=args.train_split,
        valid_split=args.valid_split,
        seed=args.seed,
        target_precision=args.target_precision,
        finetune=args.finetune,
        known_products=args.known_products,
        base_model=args.base_model or settings_from(args).encoder.text_model_path,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        max_minutes=args.max_minutes,
        device=args.device,
        progress=not args.json,
    )
    report = train_model(args.data, args.out, config)
    summary = {
        "out": str(report.out_dir),
        "model_version": report.model_version,
        "seconds": report.seconds,
        "train_pairs": report.train_pairs,
        "mined_negatives": report.mined_negatives,
        "finetune": report.finetune,
        "decider": report.decider,
        "valid": report.valid,
    }
    if args.json:
        print(orjson.dumps(summary).decode())
    else:
        print(f"model written to {report.out_dir} ({report.model_version})")
        print(f"valid: {report.valid}")
        print(f"seconds: {report.seconds}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from stream.commands.evaluate import print_report, print_stream_report, run_pair_eval, run_stream_eval

    settings = settings_from(args)
    if args.model is None:
        args.model = settings.model.model_dir
    if args.stream:
        args.show, args.quiet = 0, True
        print_stream_report(run_stream_eval(args, settings), args.json)
    else:
        print_report(run_pair_eval(args, settings), args.json)
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    from stream.commands.generate import cmd_generate as generate

    return generate(args)


def cmd_demo(args: argparse.Namespace) -> int:
    from stream.commands.demo import run_demo

    return run_demo(args, settings_from(args))


def install_stop_handlers() -> threading.Event:
    """SIGTERM/SIGINT: stop polling, finish and commit the batch in hand, exit 0."""
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("%s received: finishing the batch in hand", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    return stop


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(args, "log_level", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for chatty in ("faiss.loader", "httpx"):
        logging.getLogger(chatty).setLevel(logging.WARNING)  # library start-up noise, not our events
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        return args.handler(args)
    except USER_ERRORS as exc:
        print(f"dedup: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_FAILED


def one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
