"""`dedup train` then the test split through the trained model, as ONE JSON object.

    .venv/bin/python benchmarks/bench_train.py --data ../shared/data/abt-buy --out /tmp/m --epochs 3

Runs on CPU or GPU (``--device``); ``--base-model`` points at any local BERT-family folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from decider.bundle import ModelBundle
from decider.datasets.labeled import load_dataset
from decider.evaluation.metrics import pair_metrics
from decider.evaluation.scoring import score_split
from decider.training.config import TrainConfig
from decider.training.job import train_model
from stream.commands.flags import add_flags, parsed

TRAIN_FLAGS = ("epochs", "learning_rate", "max_minutes", "base_model", "device", "finetune", "seed")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    add_flags(parser, TrainConfig, only=TRAIN_FLAGS)
    args = parser.parse_args(argv)
    config = parsed(TrainConfig, args, progress=False)
    started = time.perf_counter()
    report = train_model(args.data, args.out, config)
    train_seconds = time.perf_counter() - started
    model = ModelBundle.load(args.out, text_model_path=config.base_model, device=config.device)
    scores, labels = score_split(model, load_dataset(args.data), "test")
    test = pair_metrics(scores, labels, model.decider.threshold).as_dict()
    print(json.dumps({
        "data": args.data.name, "device": str(model.encoder.device), "epochs": config.epochs,
        "learning_rate": config.learning_rate, "finetune": report.finetune, "train_seconds": round(train_seconds, 1),
        "step_seconds": report.seconds, "valid": report.valid, "test": test,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
