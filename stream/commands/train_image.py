"""``dedup train-image``: MAE pretraining of the image encoder on the user's photos, and its 128-d reducer."""

from __future__ import annotations

import dataclasses

import orjson

from encoders.training.mae import MaeConfig, train_image_encoder
from stream.commands.exit_codes import EXIT_OK
from stream.commands.options import TrainImageOptions


def cmd_train_image(options: TrainImageOptions) -> int:
    config = MaeConfig(size=options.size, max_minutes=options.max_minutes, seed=options.seed)
    if options.epochs is not None:
        config = dataclasses.replace(config, epochs=options.epochs)
    report = train_image_encoder(options.images, options.out, config, device=options.device, progress=not options.json)
    if options.json:
        print(orjson.dumps(report).decode())
    else:
        print(f"image model written to {report['out']} ({report['version']}, reducer {report['reducer_version']})")
        print(
            f"{report['steps']} steps in {report['minutes']} min on {report['device']}"
            f" ({report['images_per_s']} images/s) over {report['images']} photos;"
            f" loss {report['loss_first']} -> {report['loss_final']}"
        )
        print(f"loss curve: {report['loss_curve']}")
    return EXIT_OK
