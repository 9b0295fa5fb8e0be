"""Domain adaptation of the text encoder: contrastive fine-tuning on labeled product pairs.

all-MiniLM-L6-v2 was trained to put paraphrases together; product matching also needs the
opposite: "WD40EFZX 4TB" and "WD60EFZX 6TB" read alike but must land apart. An InfoNCE
(MultipleNegativesRanking) loss on duplicate pairs teaches both: each anchor must pick its own
duplicate over every other pair's listing in the batch and over its mined hard negatives (texts
labeled *not* a duplicate of it). The loss is symmetric (left picks right, right picks left).

Embeddings are computed exactly as :class:`encoders.text.TextEncoder` computes them (same
tokenizer truncation, mean pooling over real tokens, L2 norm), and the result is saved as a plain
Hugging Face folder, so ``TextEncoder(out_dir)`` loads it like the base model. Library code uses
torch + transformers only; sentence-transformers is not a dependency.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import transformers
from tqdm.auto import tqdm
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.optimization import get_linear_schedule_with_warmup

# Reusing TextEncoder's own batching and pooling guarantees training sees the vectors serving sees.
from encoders.product_groups import group_roots
from encoders.text import TextEncoder, _length_sorted_batches, _mean_pool, _pad_batch, pick_device

FINETUNE_FILE = "finetune.json"
FORMAT_VERSION = 1
MODEL_NAME_SUFFIX = "-dedup-ft"
# Copied from the base folder when present, so sentence-transformers tooling loads the result too.
_SENTENCE_TRANSFORMERS_FILES = (
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)
# Rows per forward pass inside one step: length-sorted chunks carry fewer pad tokens than one
# batch padded to its longest text, which matters on CPU where every padded token costs.
_FORWARD_CHUNK_ROWS = 32
_FINGERPRINT_HEX = 16


@dataclass(frozen=True)
class FinetuneConfig:
    """Training knobs; ``temperature`` 0.05 is sentence-transformers' default scale of 20.

    ``max_minutes`` time-boxes the training loop for CPU runs: it is checked after each step, so at
    least one step runs, and loading and saving come on top. The learning-rate schedule is planned
    for all ``epochs`` either way, so a cut run stops at a higher learning rate than a full one.
    """

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    max_length: int = 64
    temperature: float = 0.05
    hard_negatives_per_anchor: int = 1
    seed: int = 0
    max_minutes: float | None = None
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0

    def __post_init__(self) -> None:
        checks = {
            "epochs must be >= 1": self.epochs >= 1,
            "batch_size must be >= 2 (in-batch negatives need another pair)": self.batch_size >= 2,
            "learning_rate must be > 0": self.learning_rate > 0,
            "warmup_ratio must be within [0, 1]": 0 <= self.warmup_ratio <= 1,
            "max_length must be >= 2 (room for [CLS] and [SEP])": self.max_length >= 2,
            "temperature must be > 0": self.temperature > 0,
            "hard_negatives_per_anchor must be >= 0": self.hard_negatives_per_anchor >= 0,
            "max_minutes must be > 0 or None": self.max_minutes is None or self.max_minutes > 0,
            "weight_decay must be >= 0": self.weight_decay >= 0,
            "max_grad_norm must be > 0": self.max_grad_norm > 0,
        }
        failed = [rule for rule, holds in checks.items() if not holds]
        if failed:
            raise ValueError(f"invalid FinetuneConfig: {'; '.join(failed)} (got {self!r})")


@dataclass(frozen=True)
class FinetuneReport:
    """What a run did. ``seconds`` is the training loop's wall time (what ``max_minutes`` bounds)."""

    steps: int
    epochs_done: float
    seconds: float
    loss_first: float
    loss_last: float
    out_dir: Path
    steps_planned: int
    losses: tuple[float, ...] = field(repr=False)

    @property
    def stopped_early(self) -> bool:
        return self.steps < self.steps_planned

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0


def finetune_text_encoder(
    base_model: Path | str | None,
    positives: Sequence[tuple[str, str]],
    hard_negatives: Mapping[str, Sequence[str]] | None,
    out_dir: Path,
    config: FinetuneConfig,
    *,
    progress: bool = True,
    device: str = "auto",
) -> FinetuneReport:
    """Fine-tune ``base_model`` (None: the bundled all-MiniLM-L6-v2) and save it to ``out_dir``.

    ``positives`` are duplicate pairs of listing texts; ``hard_negatives`` maps a text to texts
    labeled non-duplicates of it. Texts joined by positives (transitively) are one product, and a
    product is never used as a negative of itself. ``out_dir`` must not exist or be empty; it
    appears complete or not at all.
    """
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    data = prepare_pairs(positives, hard_negatives)
    base = _BaseModel.describe(base_model)
    torch_device = pick_device(device)
    plan = _plan_steps(data, config)
    # A private RNG stream: seeding must not reset the caller's global torch RNG.
    with torch.random.fork_rng(devices=[torch_device] if torch_device.type == "cuda" else []):
        torch.manual_seed(config.seed)
        tokenizer, model = _load_trainable(base.path, torch_device)
        objective = _ContrastiveObjective(model, tokenizer, data, config, torch_device)
        losses, seconds = _train(model, objective, plan, config, progress=progress)
    report = FinetuneReport(
        steps=len(losses),
        epochs_done=_epochs_done(plan, len(losses)),
        seconds=seconds,
        loss_first=losses[0],
        loss_last=losses[-1],
        out_dir=out_dir,
        steps_planned=len(plan),
        losses=tuple(losses),
    )
    _save(model, tokenizer, base, data, config, report, torch_device)
    return report


def contrastive_loss(
    anchors: torch.Tensor,
    candidates: torch.Tensor,
    *,
    temperature: float,
    same_product: torch.Tensor | None = None,
) -> torch.Tensor:
    """InfoNCE of unit ``anchors`` (n, d) against ``candidates`` (m >= n, d).

    Row i's positive is ``candidates[i]``; every other candidate is a negative unless
    ``same_product[i, j]`` is True (another listing of the same product: a false negative, left out
    of the softmax). The positive itself is always kept.
    """
    logits = anchors @ candidates.T / temperature
    targets = torch.arange(anchors.shape[0], device=anchors.device)
    if same_product is not None:
        excluded = same_product.clone()
        excluded[targets, targets] = False
        logits = logits.masked_fill(excluded, float("-inf"))
    return F.cross_entropy(logits, targets)


# --- training data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedPairs:
    """Validated training pairs as indices into ``texts``; see :func:`prepare_pairs`."""

    texts: list[str]
    pairs: np.ndarray  # (n, 2) text indices; unordered duplicates and identical texts removed
    products: np.ndarray  # (len(texts),) product id: connected component of the positive pairs
    negatives: tuple[np.ndarray, ...]  # per text index: its usable hard negatives
    fingerprint: str
    counts: dict[str, int]


def prepare_pairs(
    positives: Sequence[tuple[str, str]], hard_negatives: Mapping[str, Sequence[str]] | None
) -> PreparedPairs:
    """Check and index the training data; raises ValueError naming the first bad entry.

    Dropped, and counted: pairs of identical texts (nothing to learn), repeated pairs, hard
    negatives of texts that are in no positive pair (never an anchor), and hard negatives that the
    positives make the same product as their anchor (contradictory labels: the positives win).
    """
    if isinstance(positives, str | bytes) or len(positives) == 0:
        raise ValueError("no positive pairs to fine-tune on; pass a sequence of (text, duplicate text) tuples")
    index: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for position, pair in enumerate(positives):
        left, right = _checked_pair(pair, position)
        a, b = index.setdefault(left, len(index)), index.setdefault(right, len(index))
        key = (min(a, b), max(a, b))
        if a != b and key not in seen:
            seen.add(key)
            pairs.append((a, b))
    if len(pairs) < 2:
        raise ValueError(
            f"fine-tuning needs at least 2 distinct positive pairs of different texts; "
            f"{len(positives)} given, {len(pairs)} usable"
        )
    anchors = len(index)
    negative_lists = _index_negatives(hard_negatives, index)
    products = _connected_components(len(index), pairs)
    negatives, conflicting = _without_same_product(negative_lists, products)
    counts = {
        "positive_pairs_given": len(positives),
        "positive_pairs_used": len(pairs),
        "positive_pairs_dropped": len(positives) - len(pairs),
        "texts": len(index),
        "products": len(np.unique(products[:anchors])),
        "anchors_with_hard_negatives": sum(1 for row in negatives if len(row)),
        "hard_negatives_used": sum(len(row) for row in negatives),
        "hard_negatives_conflicting_dropped": conflicting,
    }
    return PreparedPairs(
        texts=list(index),
        pairs=np.asarray(pairs, dtype=np.int64),
        products=products,
        negatives=tuple(negatives),
        fingerprint=_fingerprint(positives, hard_negatives),
        counts=counts,
    )


def _checked_pair(pair: object, position: int) -> tuple[str, str]:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise ValueError(f"positives[{position}] must be a (text, text) pair, got {pair!r}")
    for side, text in zip(("left", "right"), pair, strict=True):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"positives[{position}] {side} text must be a non-blank string, got {text!r}")
    return pair[0], pair[1]


def _index_negatives(hard_negatives: Mapping[str, Sequence[str]] | None, index: dict[str, int]) -> list[list[int]]:
    """Hard negatives of known anchors as text indices; ``index`` grows by the new negative texts."""
    anchors = len(index)
    negatives: list[list[int]] = [[] for _ in range(anchors)]
    for anchor, others in (hard_negatives or {}).items():
        row = index.get(anchor)
        if row is None or row >= anchors:
            continue  # not in any positive pair, so never an anchor
        if isinstance(others, str):
            raise ValueError(f"hard_negatives[{anchor!r}] must be a sequence of texts, not a single str")
        for other in others:
            if not isinstance(other, str) or not other.strip():
                raise ValueError(f"hard_negatives[{anchor!r}] holds {other!r}; expected non-blank strings")
            negatives[row].append(index.setdefault(other, len(index)))
    return [sorted(set(row)) for row in negatives]


def _connected_components(n_texts: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """A product id per text: (a, b) and (b, c) make a, b, c one product."""
    roots = group_roots(pairs, range(n_texts))
    return np.fromiter((roots[node] for node in range(n_texts)), dtype=np.int64, count=n_texts)


def _without_same_product(negative_lists: list[list[int]], products: np.ndarray) -> tuple[list[np.ndarray], int]:
    kept = [
        np.asarray([n for n in row if products[n] != products[anchor]], dtype=np.int64)
        for anchor, row in enumerate(negative_lists)
    ]
    return kept, sum(len(row) for row in negative_lists) - sum(len(row) for row in kept)


def _fingerprint(positives: Sequence[tuple[str, str]], hard_negatives: Mapping[str, Sequence[str]] | None) -> str:
    payload = {
        "positives": [list(pair) for pair in positives],
        "hard_negatives": {anchor: list(others) for anchor, others in sorted((hard_negatives or {}).items())},
    }
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    return digest.hexdigest()[:_FINGERPRINT_HEX]


# --- planning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Step:
    """One optimisation step: text indices of the pairs' two sides and of each side's hard negatives."""

    epoch: int
    lefts: np.ndarray
    rights: np.ndarray
    left_negatives: np.ndarray
    right_negatives: np.ndarray


def _plan_steps(data: PreparedPairs, config: FinetuneConfig) -> list[_Step]:
    """Every step of every epoch, drawn up front from the seed: the plan alone fixes the data order."""
    rng = np.random.default_rng(config.seed)
    pair_products = data.products[data.pairs[:, 0]]
    steps: list[_Step] = []
    for epoch in range(config.epochs):
        order = rng.permutation(len(data.pairs))
        for batch in _one_pair_per_product(order, pair_products, config.batch_size):
            lefts, rights = data.pairs[batch, 0], data.pairs[batch, 1]
            steps.append(
                _Step(
                    epoch=epoch,
                    lefts=lefts,
                    rights=rights,
                    left_negatives=_sample_negatives(rng, lefts, data.negatives, config.hard_negatives_per_anchor),
                    right_negatives=_sample_negatives(rng, rights, data.negatives, config.hard_negatives_per_anchor),
                )
            )
    return steps


def _one_pair_per_product(order: np.ndarray, pair_products: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Batches in ``order``, deferring a pair whose product already has a pair in the batch.

    Two pairs of one product in a batch would make each other's listings false negatives; the
    loss masks those anyway, but a batch of distinct products keeps every negative informative.
    """
    pending = deque(int(p) for p in order)
    while pending:
        batch: list[int] = []
        products_in_batch: set[int] = set()
        deferred: list[int] = []
        while pending and len(batch) < batch_size:
            pair = pending.popleft()
            if pair_products[pair] in products_in_batch:
                deferred.append(pair)
            else:
                batch.append(pair)
                products_in_batch.add(int(pair_products[pair]))
        pending.extendleft(reversed(deferred))
        yield np.asarray(batch, dtype=np.int64)


def _sample_negatives(
    rng: np.random.Generator, anchors: np.ndarray, negatives: Sequence[np.ndarray], per_anchor: int
) -> np.ndarray:
    chosen = [
        rng.choice(negatives[anchor], size=min(per_anchor, len(negatives[anchor])), replace=False)
        for anchor in anchors
        if per_anchor and len(negatives[anchor])
    ]
    return np.concatenate(chosen).astype(np.int64) if chosen else np.empty(0, dtype=np.int64)


def _epochs_done(plan: Sequence[_Step], steps_done: int) -> float:
    if steps_done == 0:
        return 0.0
    last_epoch = plan[steps_done - 1].epoch
    in_last_epoch = [step for step in plan if step.epoch == last_epoch]
    done_in_last = steps_done - sum(1 for step in plan if step.epoch < last_epoch)
    return last_epoch + done_in_last / len(in_last_epoch)


# --- training ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BaseModel:
    name: str
    version: str
    path: Path

    @classmethod
    def describe(cls, base_model: Path | str | None) -> _BaseModel:
        # TextEncoder checks the folder and names it exactly as serving will; its weights are not kept.
        encoder = TextEncoder(base_model, device="cpu")
        return cls(name=encoder.name, version=encoder.version, path=encoder.model_path)



def _load_trainable(path: Path, device: torch.device) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    # Train in fp32 whatever the checkpoint's dtype; bf16 autocast does the low-precision work on CUDA.
    return tokenizer, model.float().to(device)


class _ContrastiveObjective:
    """Computes a step's symmetric loss, encoding each distinct text of the step once."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        data: PreparedPairs,
        config: FinetuneConfig,
        device: torch.device,
    ) -> None:
        self._model = model
        self._device = device
        self._temperature = config.temperature
        self._products = data.products
        if tokenizer.pad_token_id is None:
            raise ValueError("the base model's tokenizer defines no pad token; batching needs one")
        self._pad_token_id = int(tokenizer.pad_token_id)
        # Tokenised once, with TextEncoder's truncation, so steps only pad and run the model.
        self._token_ids: list[list[int]] = tokenizer(
            data.texts,
            truncation=True,
            max_length=config.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]

    def __call__(self, step: _Step) -> torch.Tensor:
        texts = np.unique(np.concatenate([step.lefts, step.rights, step.left_negatives, step.right_negatives]))
        embeddings = self._embed(texts)

        def rows(text_ids: np.ndarray) -> torch.Tensor:
            return embeddings[torch.from_numpy(np.searchsorted(texts, text_ids)).to(self._device)]

        left_candidates = np.concatenate([step.rights, step.left_negatives])
        right_candidates = np.concatenate([step.lefts, step.right_negatives])
        left_to_right = contrastive_loss(
            rows(step.lefts),
            rows(left_candidates),
            temperature=self._temperature,
            same_product=self._same_product(step.lefts, left_candidates),
        )
        right_to_left = contrastive_loss(
            rows(step.rights),
            rows(right_candidates),
            temperature=self._temperature,
            same_product=self._same_product(step.rights, right_candidates),
        )
        return (left_to_right + right_to_left) / 2

    def _embed(self, text_ids: np.ndarray) -> torch.Tensor:
        """Unit vectors for ``text_ids`` in order, with gradients, pooled as TextEncoder pools."""
        token_ids = [self._token_ids[i] for i in text_ids]
        parts: list[torch.Tensor] = []
        row_order: list[np.ndarray] = []
        for chunk in _length_sorted_batches(token_ids, _FORWARD_CHUNK_ROWS):
            input_ids, attention_mask = _pad_batch([token_ids[row] for row in chunk], self._pad_token_id)
            input_ids, attention_mask = input_ids.to(self._device), attention_mask.to(self._device)
            with _training_autocast(self._device):
                hidden = self._model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            # Pool, normalise and score in fp32, as TextEncoder does.
            parts.append(F.normalize(_mean_pool(hidden.float(), attention_mask), p=2, dim=1))
            row_order.append(chunk)
        restore = torch.from_numpy(np.argsort(np.concatenate(row_order))).to(self._device)
        return torch.cat(parts)[restore]

    def _same_product(self, anchors: np.ndarray, candidates: np.ndarray) -> torch.Tensor:
        mask = self._products[anchors][:, None] == self._products[candidates][None, :]
        return torch.from_numpy(mask).to(self._device)


def _training_autocast(device: torch.device) -> AbstractContextManager[object]:
    # bf16 only: fp16 training would need a gradient scaler, and fp32 is the safe fallback.
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()


def _train(
    model: PreTrainedModel,
    objective: _ContrastiveObjective,
    plan: Sequence[_Step],
    config: FinetuneConfig,
    *,
    progress: bool,
) -> tuple[list[float], float]:
    """Run ``plan`` (or as much as ``max_minutes`` allows, at least one step); losses and seconds."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = get_linear_schedule_with_warmup(
        optimizer, num_warmup_steps=math.ceil(config.warmup_ratio * len(plan)), num_training_steps=len(plan)
    )
    budget_s = None if config.max_minutes is None else config.max_minutes * 60
    losses: list[float] = []
    model.train()
    started = time.monotonic()
    with tqdm(total=len(plan), desc="fine-tuning text encoder", unit="step", disable=not progress) as bar:
        for step in plan:
            loss = objective(step)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}", epoch=step.epoch + 1)
            if budget_s is not None and time.monotonic() - started >= budget_s:
                break
    seconds = time.monotonic() - started
    model.eval()
    return losses, seconds


# --- saving --------------------------------------------------------------------------------------


def _check_out_dir(out_dir: Path) -> None:
    # Checked before training, so a bad path fails in a second, not after the run.
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise FileExistsError(f"{out_dir} already exists and is not an empty folder; pick a new out_dir or remove it")


def _save(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    base: _BaseModel,
    data: PreparedPairs,
    config: FinetuneConfig,
    report: FinetuneReport,
    device: torch.device,
) -> None:
    """Write into a sibling staging folder, then rename: ``out_dir`` is never half-written."""
    out_dir = report.out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model.save_pretrained(staging)  # safetensors, the default since transformers 4.35
        tokenizer.save_pretrained(staging)
        _copy_sentence_transformers_files(base.path, staging)
        name = base.name if base.name.endswith(MODEL_NAME_SUFFIX) else f"{base.name}{MODEL_NAME_SUFFIX}"
        (staging / "README.md").write_text(_model_card(name, base, data, report), encoding="utf-8")
        metadata = _metadata(name, base, data, config, report, device)
        (staging / FINETUNE_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if out_dir.exists():
            out_dir.rmdir()  # empty, checked before training; rename cannot replace a folder
        os.replace(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy_sentence_transformers_files(base_path: Path, staging: Path) -> None:
    for relative in _SENTENCE_TRANSFORMERS_FILES:
        source = base_path / relative
        if source.is_file():
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, staging / relative)


def _model_card(name: str, base: _BaseModel, data: PreparedPairs, report: FinetuneReport) -> str:
    # TextEncoder names a model after its card's "# title" line.
    return (
        f"# {name}\n\n"
        f"{base.version} fine-tuned by listing-dedup (encoders/finetune.py) with a symmetric InfoNCE loss on "
        f"{data.counts['positive_pairs_used']} duplicate product pairs and "
        f"{data.counts['hard_negatives_used']} hard negatives (data {data.fingerprint}), "
        f"{report.steps} steps. Use it with mean pooling and L2 normalisation; see {FINETUNE_FILE}.\n"
    )


def _metadata(
    name: str,
    base: _BaseModel,
    data: PreparedPairs,
    config: FinetuneConfig,
    report: FinetuneReport,
    device: torch.device,
) -> dict[str, Any]:
    return {
        "kind": "contrastive-finetune",
        "format_version": FORMAT_VERSION,
        "name": name,
        "base_model": {"name": base.name, "version": base.version, "path": str(base.path)},
        "config": asdict(config),
        "report": {
            "steps": report.steps,
            "steps_planned": report.steps_planned,
            "stopped_early": report.stopped_early,
            "epochs_done": round(report.epochs_done, 4),
            "seconds": round(report.seconds, 3),
            "loss_first": report.loss_first,
            "loss_last": report.loss_last,
        },
        "data": {"fingerprint": data.fingerprint, **data.counts},
        "environment": {"device": str(device), "torch": torch.__version__, "transformers": transformers.__version__},
    }
