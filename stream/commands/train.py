"""``dedup train``: fine-tune the encoder, fit the reducer and the decider, write the model folder."""

from __future__ import annotations

import dataclasses

import orjson

from decider.training.config import TrainConfig
from decider.training.job import train_model
from stream.commands.exit_codes import EXIT_OK
from stream.commands.options import TrainOptions
from stream.settings import Settings


def cmd_train(options: TrainOptions, config: TrainConfig) -> int:
    config = dataclasses.replace(
        config,
        base_model=config.base_model or Settings().encoder.text_model_path,
        progress=not options.json,
    )
    report = train_model(options.data, options.out, config)
    summary = {
        "out": str(report.out_dir),
        "model_version": report.model_version,
        "seconds": report.seconds,
        "train_pairs": report.train_pairs,
        "mined": report.mined,
        "finetune": report.finetune,
        "decider": report.decider,
        "photos": report.photos,
        "valid": report.valid,
    }
    if options.json:
        print(orjson.dumps(summary).decode())
    else:
        print(f"model written to {report.out_dir} ({report.model_version})")
        print(f"valid: {report.valid}")
        print(f"seconds: {report.seconds}")
    return EXIT_OK
