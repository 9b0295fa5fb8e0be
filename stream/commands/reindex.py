"""``dedup reindex --model NEW``: a collection for a new model, filled while the old one serves, then the alias moved.

Light at import (the parser registers it at start-up); the model, pymilvus and Kafka load when it runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field
from pydantic.dataclasses import dataclass

from stream.commands.exit_codes import EXIT_OK
from stream.commands.flags import Cli, add_flags, parsed
from stream.commands.options import SERVICE_FLAGS, add_service_flags, without
from stream.settings import Settings


@dataclass(frozen=True)
class ReindexOptions:
    model: Annotated[Path, Cli(metavar="MODEL_DIR")] = Field(
        description="the new model folder (what DEDUP_MODEL_DIR becomes once workers restart)"
    )
    source: Literal["stored", "topic"] = Field(
        default="stored",
        description="re-encode the stored listings' text, or replay the listings topic from its beginning",
    )
    drop_old: bool = Field(default=False, description="drop the old collection after the switch")


def add_reindex_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "reindex", help="fill a collection for a new model while the old one serves, then switch the alias"
    )
    add_flags(parser, ReindexOptions, only=("model",))
    parser.add_argument(
        "--from", dest="source", choices=("stored", "topic"), default="stored",
        help=f"{ReindexOptions.__pydantic_fields__['source'].description} (default: stored)",
    )
    old = parser.add_mutually_exclusive_group()
    parser.set_defaults(drop_old=False)  # store_false alone would default --keep-old's dest to True
    old.add_argument("--keep-old", dest="drop_old", action="store_false", help="keep the old collection (default)")
    old.add_argument("--drop-old", dest="drop_old", action="store_true", help="drop it after the switch")
    # Its --model is the new model; it uses no consumer group or cache of the workers'.
    add_service_flags(parser, without(SERVICE_FLAGS, "--model", "--group", "--redis-url"))


def parsed_reindex(args: argparse.Namespace) -> ReindexOptions:
    return parsed(ReindexOptions, args)


def cmd_reindex(options: ReindexOptions, settings: Settings) -> int:
    from tqdm import tqdm

    from stream.commands.shutdown import stop_on_signals
    from stream.reindex.job import run_reindex
    from stream.worker.runtime import load_model

    model = load_model(settings, options.model)
    with stop_on_signals(settings.worker.shutdown_grace_s) as stop, tqdm(unit="listing", desc="reindex") as progress:
        summary = run_reindex(
            settings, model, source=options.source, drop_old=options.drop_old, stop=stop, on_progress=progress.update
        )
    print(json.dumps(summary.as_dict()))
    return EXIT_OK
