"""``dedup eval``: how good are the model's duplicate decisions on a labeled set."""

from __future__ import annotations

import time
from typing import Any

import orjson

from decider.bundle import ModelBundle
from decider.datasets.labeled import load_dataset
from decider.datasets.photos import is_photo_set
from decider.evaluation.baselines import raw_cosine_baseline, tfidf_baseline
from decider.evaluation.metrics import pair_metrics
from decider.evaluation.plots import write_plots
from decider.evaluation.scoring import score_split
from stream.commands.evaluate_photos import print_photo_report, run_photo_eval
from stream.commands.exit_codes import EXIT_OK
from stream.commands.options import DemoOptions, EvalOptions
from stream.settings import Settings
from stream.worker.runtime import load_model

VALID_SPLITS = ("valid", "train")


def cmd_eval(options: EvalOptions, settings: Settings) -> int:
    if is_photo_set(options.data):  # images.csv, no listings: photo-to-photo duplicates
        print_photo_report(run_photo_eval(options), options.json)
    elif options.stream:
        print_stream_report(run_stream_eval(options, settings), options.json)
    else:
        print_report(run_pair_eval(options, settings), options.json)
    return EXIT_OK


def run_pair_eval(options: EvalOptions, settings: Settings) -> dict[str, Any]:
    """Scores the split's labeled pairs through the worker's encoder, reducer and decider."""
    dataset = load_dataset(options.data)
    model_dir = settings.model.model_dir
    model = load_model(settings, model_dir)
    started = time.perf_counter()
    scores, labels = score_split(model, dataset, options.split)
    seconds = time.perf_counter() - started
    metrics = pair_metrics(scores, labels, model.decider.threshold)
    plots = write_plots(scores, labels, model.decider.threshold, model_dir, f"{dataset.name}-{options.split}")
    report: dict[str, Any] = {
        **metrics.as_dict(),
        "data": dataset.name,
        "split": options.split,
        "model_version": model.version,
        "decider": model.decider.name,
        "ms_per_pair": round(1000 * seconds / max(len(labels), 1), 3),
        "plots": [str(path) for path in plots],
    }
    if options.baselines:
        report["baselines"] = baselines(model, dataset, options.split)
    return report


def baselines(model: ModelBundle, dataset: Any, split: str) -> dict[str, Any]:
    """TF-IDF and raw-embedding cosine, thresholds tuned the same way, so each gain is visible."""
    valid = next((name for name in VALID_SPLITS if name in dataset.splits() and name != split), None)
    if valid is None:
        return {}
    return {
        "tfidf_char_2_4_cosine": tfidf_baseline(dataset, valid, split).as_dict(),
        f"raw_{model.encoder.name}_cosine": raw_cosine_baseline(model, dataset, valid, split).as_dict(),
        "threshold_tuned_on": valid,
    }


def print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(orjson.dumps(report).decode())
        return
    print(f"{report['data']} {report['split']}: {report['pairs']} pairs, {report['positives']} duplicates")
    print(f"model {report['model_version']}")
    rows = [("decider", report)] + [
        (name, figures) for name, figures in report.get("baselines", {}).items() if isinstance(figures, dict)
    ]
    print(f"{'':28} {'precision':>9} {'recall':>7} {'F1':>6} {'macro F1':>8} {'threshold':>9}")
    for name, figures in rows:
        print(
            f"{name:28} {figures['precision']:9.3f} {figures['recall']:7.3f} {figures['f1']:6.3f} "
            f"{figures['macro_f1']:8.3f} {figures['threshold']:9.3f}"
        )
    for path in report["plots"]:
        print(f"wrote {path}")


def run_stream_eval(options: EvalOptions, settings: Settings) -> dict[str, Any]:
    """Every listing of the set through the real pipeline (broker, Milvus, decider, events), shuffled."""
    from infra.stack.local import embedded_stack
    from stream.commands.demo import demo_on_stack

    demo = DemoOptions(
        data=options.data, seed=options.seed, state_dir=options.state_dir, model=settings.model.model_dir
    )
    with embedded_stack(options.state_dir) as status:
        figures = demo_on_stack(demo, settings, status, report=False, pairs_out=options.pairs_out)
    return stream_report(figures)


def stream_report(figures: dict[str, Any]) -> dict[str, Any]:
    """The pair-eval keys for the stream: every unordered pair of listings is a decision."""
    listings = figures["listings"]
    all_pairs = listings * (listings - 1) // 2
    tp, fp, fn = figures["true_positives"], figures["false_positives"], figures["false_negatives"]
    tn = all_pairs - tp - fp - fn
    f1_distinct = 2 * tn / (2 * tn + fp + fn) if tn else 0.0
    return {
        "precision": figures["precision"],
        "recall": figures["recall"],
        "f1": figures["f1"],
        "macro_f1": round((figures["f1"] + f1_distinct) / 2, 4),
        "threshold": figures["threshold"],
        "pairs": figures["pairs_found"],
        "positives": figures["true_pairs"],
        "candidate_recall": figures["candidate_recall"],
        "listings": listings,
        "data": figures["data"],
        "model_version": figures["model_version"],
        "worker_events_per_s": figures["worker_events_per_s"],
        **{key: figures[key] for key in ("pairs_out", "verdicts") if key in figures},
    }


def print_stream_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(orjson.dumps(report).decode())
        return
    print(f"{report['data']}: {report['listings']} listings streamed, {report['positives']} known duplicate pairs")
    print(f"model {report['model_version']}")
    print(
        f"pairwise precision {report['precision']:.3f}  recall {report['recall']:.3f}  F1 {report['f1']:.3f}  "
        f"macro F1 {report['macro_f1']:.3f}  candidate recall {report['candidate_recall']:.3f}  "
        f"({report['worker_events_per_s']} events/s)"
    )
