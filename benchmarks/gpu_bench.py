"""Throughput of the encoders and the worker's stages on one GPU, as ONE JSON object (issue 11 item 3).

On the device machine, through benchmarks/gpu.sh (its header says how to call it with the `run` tool).
Here, the same code with tiny models on the CPU, in well under a minute:

    .venv/bin/python -m benchmarks.gpu_bench --smoke

Figures: listings/s of the text encoder (MiniLM-L6 and a BERT-base-sized model: batch 64/256, fp32 vs
bf16 autocast, torch.compile off/on), pairs/s of the cross-encoder, images/s of a ViT-B/16 (MAE preset),
and the worker's host-side stages (128-d reduction, decider scoring). Weights are random where the
real ones are not on the machine (the JSON says which): speed does not depend on them. Sections run
in order of importance inside ``--budget-s``; the JSON is rewritten after each one, so a run cut
short still leaves what it measured in ``$OUT/gpu.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from transformers.utils import logging as transformers_logging

from benchmarks.gpu_models import BERT_BASE, TINY_BERT, describe, image_folder, minilm_source, text_folder
from decider.datasets.candidate_pairs import labeled_pairs
from decider.models.cross_encoder import CrossEncoder
from decider.synthetic.generator import generate_catalog
from decider.training.quick_models import fit_trained_bundle
from encoders import text as text_module
from encoders.batching import host_buffer
from encoders.images import encoder as image_module
from encoders.images.encoder import ImageEncoder
from encoders.listing import listing_text
from encoders.text import TextEncoder, pick_device

TEXT_BATCHES = (64, 256)
IMAGE_BATCHES = (64, 256)
PRECISIONS = ("fp32", "bf16")
MAX_LENGTH = 64
# Seconds a compile section needs left before it starts: the first call compiles (tens of seconds).
COMPILE_RESERVE_S = 90


class Report:
    """The JSON object, rewritten to ``path`` after every section so a cut-short run keeps its figures."""

    def __init__(self, path: Path | None, budget_s: float, header: dict[str, Any]) -> None:
        self.path = path
        self.started = time.perf_counter()
        self.budget_s = budget_s
        self.data: dict[str, Any] = {**header, "skipped": []}

    def left_s(self) -> float:
        return self.budget_s - (time.perf_counter() - self.started)

    def section(self, name: str, run: Callable[[], Any], *, needs_s: float = 0.0) -> None:
        if self.left_s() < needs_s:
            self.data["skipped"].append(f"{name}: {self.left_s():.0f} s left of the budget, needs {needs_s:.0f}")
            return
        started = time.perf_counter()
        try:
            self.data[name] = run()
        except Exception as exc:  # one broken section (a compile, say) must not cost the others' figures
            first_line = (str(exc).strip().splitlines() or [""])[0][:300]
            self.data[name] = {"error": f"{type(exc).__name__}: {first_line}"}
        self.data.setdefault("section_s", {})[name] = round(time.perf_counter() - started, 1)
        self.data["elapsed_s"] = round(time.perf_counter() - self.started, 1)
        self.write()

    def write(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.data, indent=2) + "\n")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny models on the CPU: checks the code, not speed")
    parser.add_argument("--minilm-files", type=Path, help="MiniLM config + tokenizer folder (default: the package)")
    parser.add_argument("--titles", type=int, help="titles per timed pass (default 16384; 64 with --smoke)")
    parser.add_argument("--budget-s", type=float, default=390.0, help="stop starting sections after this")
    out = os.environ.get("OUT")
    parser.add_argument("--out", type=Path, default=Path(out) / "gpu.json" if out else None)
    return parser.parse_args(argv)


def environment(device: torch.device) -> dict[str, Any]:
    import timm
    import transformers

    cuda = device.type == "cuda"
    return {
        "device": str(device),
        "card": torch.cuda.get_device_name(device) if cuda else platform.processor() or "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if cuda else None,
        "transformers": transformers.__version__,
        "timm": timm.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
    }


def titles(count: int) -> list[str]:
    """Generated marketplace-like titles (realistic token lengths), repeated up to ``count``."""
    listings = generate_catalog(n_products=min(2000, max(50, count // 2)), seed=11).listings
    texts = [listing_text(listing) for listing in listings]
    return [texts[row % len(texts)] for row in range(count)]


def best_rate(count: int, run: Callable[[], object], repeats: int = 2) -> float:
    """Items per second of the fastest of ``repeats`` passes (the caller has warmed up)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - started)
    return round(count / best, 1)


@contextmanager
def precision(name: str) -> Iterator[None]:
    """fp32: the encoders' autocast switched off (they turn bf16 on by themselves on CUDA)."""
    if name == "bf16":
        yield
        return
    saved = text_module.autocast, image_module.autocast
    text_module.autocast = image_module.autocast = lambda device: nullcontext()
    try:
        yield
    finally:
        text_module.autocast, image_module.autocast = saved


def text_runs(encoder: TextEncoder, texts: list[str], precisions: tuple[str, ...], compiled: bool) -> list[dict]:
    runs = []
    for name in precisions:
        with precision(name):
            for batch in TEXT_BATCHES:
                encoder.batch_size = batch
                encoder.encode(texts[: 2 * batch])  # warm-up: kernels, allocator, compile
                rate = best_rate(len(texts), lambda: encoder.encode(texts))
                runs.append({"batch": batch, "precision": name, "compile": compiled, "listings_per_s": rate})
    return runs


def bench_text(folder: Path, weights: str, texts: list[str], device: torch.device) -> dict[str, Any]:
    encoder = TextEncoder(folder, device=str(device), max_length=MAX_LENGTH)
    tokenizer_rate = best_rate(len(texts), lambda: encoder._tokenizer(texts, truncation=True, max_length=MAX_LENGTH))
    return {
        "weights": weights,
        "config": describe(folder / "config.json"),
        "max_length": MAX_LENGTH,
        "tokenizer_titles_per_s": tokenizer_rate,
        "runs": text_runs(encoder, texts, PRECISIONS, compiled=False),
    }


def bench_text_compiled(folder: Path, texts: list[str], device: torch.device) -> dict[str, Any]:
    started = time.perf_counter()
    encoder = TextEncoder(folder, device=str(device), max_length=MAX_LENGTH, compile_model=True)
    encoder.encode(texts[:64])
    first_call_s = round(time.perf_counter() - started, 1)
    return {"first_call_s": first_call_s, "runs": text_runs(encoder, texts, ("bf16",), compiled=True)}


def bench_cross_encoder(folder: Path, texts: list[str], device: torch.device) -> dict[str, Any]:
    half = len(texts) // 2
    left, right = texts[:half], texts[half : 2 * half]
    runs = []
    for batch in TEXT_BATCHES:
        model = CrossEncoder(folder, device=str(device), batch_size=batch)
        model.score(left[: 2 * batch], right[: 2 * batch])
        runs.append({"batch": batch, "pairs_per_s": best_rate(half, lambda m=model: m.score(left, right))})
    autocast = "bf16" if device.type == "cuda" else "off (cpu)"
    return {"weights": "random", "config": describe(folder / "config.json"), "autocast": autocast, "runs": runs}


def image_runs(encoder: ImageEncoder, batches: tuple[int, ...], precisions: tuple[str, ...], images: int,
               compiled: bool) -> list[dict]:
    runs = []
    for batch in batches:
        pixels = host_buffer((batch, 3, encoder.input_size, encoder.input_size), torch.float32, encoder.device)
        pixels.copy_(torch.randn(pixels.shape))
        passes = max(1, images // batch)
        for name in precisions:
            with precision(name):
                encoder.embed_pixels(pixels).cpu()  # warm-up (and the compile)
                rate = best_rate(passes * batch, lambda p=pixels, n=passes: repeat_embed(encoder, p, n))
            runs.append({"batch": batch, "precision": name, "compile": compiled, "images_per_s": rate})
    return runs


def repeat_embed(encoder: ImageEncoder, pixels: torch.Tensor, passes: int) -> None:
    for _ in range(passes):
        encoder.embed_pixels(pixels).cpu()


def bench_image(folder: Path, architecture: dict[str, Any], device: torch.device, smoke: bool) -> dict[str, Any]:
    encoder = ImageEncoder.load(folder, device=str(device))
    images = 16 if smoke else 2048
    photos = [Image.fromarray(np.random.default_rng(row).integers(0, 255, (480, 640, 3), dtype=np.uint8))
              for row in range(16 if smoke else 256)]
    encoder.batch_size = 64
    encoder.encode(photos[:64])
    return {
        "weights": "random",
        "architecture": architecture,
        "model_only": image_runs(encoder, IMAGE_BATCHES, PRECISIONS, images, compiled=False),
        # encode() on 640x480 photos: resize and crop on one host thread, then the model.
        "encode_640x480_batch64_images_per_s": best_rate(len(photos), lambda: encoder.encode(photos)),
    }


def bench_image_compiled(folder: Path, device: torch.device) -> dict[str, Any]:
    encoder = ImageEncoder.load(folder, device=str(device), compile_model=True)
    started = time.perf_counter()
    runs = image_runs(encoder, (256,), ("bf16",), 2048, compiled=True)
    return {"first_call_and_runs_s": round(time.perf_counter() - started, 1), "runs": runs}


def bench_worker_stages(minilm: Path, device: torch.device, smoke: bool) -> dict[str, Any]:
    """The host-side stages after the encoder: reduction to 128-d and the decider on candidate pairs."""
    encoder = TextEncoder(minilm, device=str(device), max_length=MAX_LENGTH)
    catalog = generate_catalog(n_products=60 if smoke else 400, seed=5)
    listings = {listing["listing_id"]: listing for listing in catalog.listings}
    bundle = fit_trained_bundle(encoder, listings, catalog, dim=16 if smoke else 128, seed=0)
    wide = encoder.encode([listing_text(item) for item in listings.values()])
    many = np.tile(wide, (max(1, 20_000 // len(wide)), 1))
    reduced = dict(zip(listings, bundle.reducer.transform(wide), strict=True))
    pairs, _labels = labeled_pairs(reduced, listings, catalog.pairs())
    return {
        "note": "host CPU stages (numpy, scikit-learn) of the machine the GPU sits in",
        "reducer_dim": bundle.reducer.dim,
        "reduce_listings_per_s": best_rate(len(many), lambda: bundle.reducer.transform(many)),
        "decider": type(bundle.decider).__name__,
        "decider_pairs": len(pairs),
        "decider_pairs_per_s": best_rate(len(pairs), lambda: bundle.decider.score(pairs)),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    verbosity = transformers_logging.get_verbosity()
    # Random heads "should be trained", shards are written: known, and noise around one JSON object.
    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    try:
        report = run(args)
    finally:
        transformers_logging.set_verbosity(verbosity)
        transformers_logging.enable_progress_bar()
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    device = torch.device("cpu") if args.smoke else pick_device("cuda")
    source, packaged = minilm_source(args.minilm_files)
    texts = titles(args.titles or (64 if args.smoke else 16384))
    header = {"benchmark": "gpu", "smoke": args.smoke, **environment(device), "titles": len(texts)}
    if device.type != "cuda":
        header["note"] = "CPU smoke run: autocast is off on CPU, so bf16 rows run fp32; compile is CUDA-only"
    report = Report(args.out, args.budget_s, header)
    cuda = device.type == "cuda"
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        tiny = TINY_BERT if args.smoke else None
        minilm = source if packaged and not args.smoke else text_folder(root / "minilm", source, tiny)
        weights = "packaged all-MiniLM-L6-v2" if minilm == source else "random (MiniLM-L6 config and tokenizer)"
        bert = text_folder(root / "bert-base", source, TINY_BERT if args.smoke else BERT_BASE)
        pair_model = text_folder(root / "cross-encoder", source, tiny, classifier=True)
        vit, architecture = image_folder(root / "vit", smoke=args.smoke)
        report.section("text_minilm", lambda: bench_text(minilm, weights, texts, device))
        report.section("text_bert_base", lambda: bench_text(bert, "random (BERT-base shape)", texts, device))
        report.section("image_vit_b16", lambda: bench_image(vit, architecture, device, args.smoke))
        report.section("cross_encoder", lambda: bench_cross_encoder(pair_model, texts, device))
        report.section("worker_stages", lambda: bench_worker_stages(minilm, device, args.smoke))
        if cuda:
            report.section("text_minilm_compiled", lambda: bench_text_compiled(minilm, texts, device),
                           needs_s=COMPILE_RESERVE_S)
            report.section("text_bert_base_compiled", lambda: bench_text_compiled(bert, texts, device),
                           needs_s=COMPILE_RESERVE_S)
            report.section("image_vit_b16_compiled", lambda: bench_image_compiled(vit, device),
                           needs_s=COMPILE_RESERVE_S)
    report.write()
    return report.data


if __name__ == "__main__":
    sys.exit(main())
