"""Fine-tuning a BERT-family model as a pair cross-encoder (offline; the worker only loads the result).

Binary cross-entropy on labeled pairs with a one-logit head, AdamW with linear warmup and decay,
seeded, time-boxed, with a progress bar on stderr like the bi-encoder's fine-tuning
(``encoders.training.finetune``). Inputs are tokenized and padded by ``decider.models.cross_encoder``,
so training reads pairs exactly as serving does. The result is a plain Hugging Face folder.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import transformers
from tqdm.auto import tqdm

from decider.errors import DeciderError
from decider.models.cross_encoder import (
    DEFAULT_MAX_LENGTH,
    PairTokens,
    autocast,
    load_pair_model,
    pad_pairs,
    tokenize_pairs,
)
from encoders.text import default_text_model_path, pick_device
from infra.files import staged_folder

TRAINING_FILE = "cross-encoder.json"
# Steps timed before the learning-rate schedule is fitted to what the time box allows.
TIMED_STEPS = 3
BUCKET_BATCHES = 16  # batches drawn together and sorted by length, so each carries little padding


@dataclass(frozen=True)
class CrossEncoderTraining:
    """Knobs of one fine-tuning run; ``max_minutes`` bounds the training loop (loading and saving come on top)."""

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 5e-5
    warmup_ratio: float = 0.1
    max_length: int = DEFAULT_MAX_LENGTH
    max_minutes: float | None = 5.0
    seed: int = 0
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    max_positive_weight: float = 4.0  # up-weights duplicates towards balance, at most this much
    # The vocabulary matrix is half of MiniLM's weights: frozen, AdamW updates half as many, and
    # words the train pairs lack keep their pretrained vectors.
    freeze_word_embeddings: bool = True


@dataclass(frozen=True)
class CrossEncoderFit:
    out_dir: Path
    steps: int
    steps_planned: int
    epochs_done: float
    seconds: float
    loss_first: float
    loss_last: float

    def summary(self) -> dict[str, Any]:
        fields = asdict(self)
        fields.pop("out_dir")
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in fields.items()}


def finetune_cross_encoder(
    base_model: Path | str | None,
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    labels: np.ndarray,
    out_dir: Path,
    settings: CrossEncoderTraining,
    *,
    progress: bool = True,
    device: str = "auto",
) -> CrossEncoderFit:
    """Fine-tune ``base_model`` (None: the packaged MiniLM) as a pair classifier; save it to ``out_dir``.

    Each pair is read in a random order each epoch (the stream's query/candidate order means nothing).
    """
    labels = np.asarray(labels, dtype=np.float32)
    if not len(texts_a) == len(texts_b) == len(labels) or len(labels) == 0:
        raise DeciderError(f"need the same, non-zero number of texts and labels, got {len(texts_a)}, {len(labels)}")
    base = Path(base_model) if base_model is not None else default_text_model_path()
    torch_device = pick_device(device)
    # A private RNG stream: seeding must not reset the caller's global torch RNG.
    with torch.random.fork_rng(devices=[torch_device] if torch_device.type == "cuda" else []):
        torch.manual_seed(settings.seed)
        with _quiet_transformers():  # "newly initialized: classifier.*" is the point here
            tokenizer, model = load_pair_model(base, torch_device)
        orders = (
            tokenize_pairs(tokenizer, texts_a, texts_b, settings.max_length),
            tokenize_pairs(tokenizer, texts_b, texts_a, settings.max_length),
        )
        outcome = _train(model, int(tokenizer.pad_token_id), orders, labels, settings, torch_device, progress)
    fit = CrossEncoderFit(out_dir, *outcome)
    _save(model, tokenizer, base, settings, fit, torch_device, len(labels))
    return fit


def _train(
    model: Any,
    pad_token_id: int,
    orders: tuple[list[PairTokens], list[PairTokens]],
    labels: np.ndarray,
    settings: CrossEncoderTraining,
    device: torch.device,
    progress: bool,
) -> tuple[int, int, float, float, float, float]:
    """Steps, steps planned, epochs done, seconds, first and last loss."""
    rng = np.random.default_rng(settings.seed)
    steps_per_epoch = math.ceil(len(labels) / settings.batch_size)
    schedule = _Schedule(settings.epochs * steps_per_epoch, settings.warmup_ratio)
    if settings.freeze_word_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    trained = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule.factor)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(_positive_weight(labels, settings), device=device))
    budget_s = None if settings.max_minutes is None else settings.max_minutes * 60
    losses: list[float] = []
    model.train()
    started = time.monotonic()
    with tqdm(total=schedule.total, desc="fine-tuning cross-encoder", unit="step", disable=not progress) as bar:
        for epoch, batch, batch_labels in _batches(rng, orders, labels, settings):
            loss = _step(model, optimizer, scheduler, loss_fn, batch, batch_labels, pad_token_id, settings, device)
            losses.append(loss)
            elapsed = time.monotonic() - started
            if len(losses) == TIMED_STEPS and budget_s is not None:
                schedule.fit_to_budget(len(losses), elapsed, budget_s)
                bar.total = schedule.total
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}", epoch=epoch + 1)
            if len(losses) >= schedule.total or (budget_s is not None and elapsed >= budget_s):
                break
    model.eval()
    planned = settings.epochs * steps_per_epoch
    return len(losses), planned, len(losses) / steps_per_epoch, time.monotonic() - started, losses[0], losses[-1]


def _step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    loss_fn: torch.nn.Module,
    batch: list[PairTokens],
    labels: np.ndarray,
    pad_token_id: int,
    settings: CrossEncoderTraining,
    device: torch.device,
) -> float:
    inputs = pad_pairs(batch, pad_token_id, device)
    with autocast(device):
        logits = model(**inputs).logits[:, 0]
    loss = loss_fn(logits.float(), torch.from_numpy(labels).to(device))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), settings.max_grad_norm)
    optimizer.step()
    scheduler.step()
    return float(loss.detach())


class _Schedule:
    """Linear warmup then linear decay to zero at ``total`` steps, where ``total`` may shrink once to
    what the time box allows, so a time-boxed run still ends at a low learning rate."""

    def __init__(self, total: int, warmup_ratio: float) -> None:
        self.total = total
        self.warmup_ratio = warmup_ratio

    def fit_to_budget(self, steps: int, elapsed_s: float, budget_s: float) -> None:
        reachable = steps + int(max(budget_s - elapsed_s, 0.0) / (elapsed_s / steps))
        self.total = max(steps, min(self.total, reachable))

    def factor(self, step: int) -> float:
        warmup = max(1, math.ceil(self.warmup_ratio * self.total))
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (self.total - step) / max(1, self.total - warmup))


def _batches(
    rng: np.random.Generator,
    orders: tuple[list[PairTokens], list[PairTokens]],
    labels: np.ndarray,
    settings: CrossEncoderTraining,
) -> Iterator[tuple[int, list[PairTokens], np.ndarray]]:
    """(epoch, tokenized pairs, labels) for every step of every epoch; each pair's order drawn per epoch."""
    lengths = np.array([len(ids) for ids, _ in orders[0]])
    for epoch in range(settings.epochs):
        swapped = rng.random(len(labels)) < 0.5
        for rows in _epoch_batches(rng, lengths, settings.batch_size):
            yield epoch, [orders[int(swapped[row])][row] for row in rows], labels[rows]


def _epoch_batches(rng: np.random.Generator, lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Shuffled batches of similar-length pairs: shuffle, sort within buckets of a few batches, shuffle batches."""
    order = rng.permutation(len(lengths))
    bucket = batch_size * BUCKET_BATCHES
    batches = []
    for start in range(0, len(order), bucket):
        rows = order[start : start + bucket]
        rows = rows[np.argsort(lengths[rows], kind="stable")]
        batches.extend(rows[i : i + batch_size] for i in range(0, len(rows), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _positive_weight(labels: np.ndarray, settings: CrossEncoderTraining) -> float:
    positives = float(labels.sum())
    if positives == 0:
        return 1.0
    return float(np.clip((len(labels) - positives) / positives, 1.0, settings.max_positive_weight))


class _quiet_transformers:
    def __enter__(self) -> None:
        self.level = transformers.logging.get_verbosity()
        transformers.logging.set_verbosity_error()

    def __exit__(self, *_: object) -> None:
        transformers.logging.set_verbosity(self.level)


def _save(
    model: Any,
    tokenizer: Any,
    base: Path,
    settings: CrossEncoderTraining,
    fit: CrossEncoderFit,
    device: torch.device,
    pairs: int,
) -> None:
    """Write into a staging folder that replaces ``fit.out_dir`` whole: it is never half-written."""
    with staged_folder(fit.out_dir) as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        metadata = {
            "kind": "pair-cross-encoder",
            "base_model": str(base),
            "settings": asdict(settings),
            "pairs": pairs,
            "report": fit.summary(),
            "environment": {
                "device": str(device), "torch": torch.__version__, "transformers": transformers.__version__
            },
        }
        (staging / TRAINING_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
