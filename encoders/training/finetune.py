"""Domain adaptation of the text encoder: contrastive fine-tuning on labeled product pairs.

``finetune_text_encoder`` checks and indexes the pairs (:mod:`encoders.training.pairs`), plans
every step from the seed (:mod:`encoders.training.steps`), minimises the symmetric InfoNCE loss
(:mod:`encoders.training.objective`) and saves the result as a plain Hugging Face folder, so
``TextEncoder(out_dir)`` loads it like the base model. Library code uses torch + transformers
only; sentence-transformers is not a dependency.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import transformers
from tqdm.auto import tqdm
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.optimization import get_linear_schedule_with_warmup

from encoders.text import TextEncoder, pick_device
from encoders.training.config import FinetuneConfig, FinetuneReport
from encoders.training.objective import ContrastiveObjective
from encoders.training.pairs import PreparedPairs, prepare_pairs
from encoders.training.steps import Step, epochs_done, plan_steps
from infra.files import require_new_folder, staged_folder

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
    require_new_folder(out_dir, "out_dir")
    data = prepare_pairs(positives, hard_negatives)
    base = _BaseModel.describe(base_model)
    torch_device = pick_device(device)
    plan = plan_steps(data, config)
    # A private RNG stream: seeding must not reset the caller's global torch RNG.
    with torch.random.fork_rng(devices=[torch_device] if torch_device.type == "cuda" else []):
        torch.manual_seed(config.seed)
        tokenizer, model = _load_trainable(base.path, torch_device)
        objective = ContrastiveObjective(model, tokenizer, data, config, torch_device)
        losses, seconds = _train(model, objective, plan, config, progress=progress)
    report = FinetuneReport(
        steps=len(losses),
        epochs_done=epochs_done(plan, len(losses)),
        seconds=seconds,
        loss_first=losses[0],
        loss_last=losses[-1],
        out_dir=out_dir,
        steps_planned=len(plan),
        losses=tuple(losses),
    )
    _save(model, tokenizer, base, data, config, report, torch_device)
    return report


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


def _train(
    model: PreTrainedModel,
    objective: ContrastiveObjective,
    plan: Sequence[Step],
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


def _save(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    base: _BaseModel,
    data: PreparedPairs,
    config: FinetuneConfig,
    report: FinetuneReport,
    device: torch.device,
) -> None:
    """Write into a staging folder that replaces ``report.out_dir`` (empty, checked before training) whole."""
    with staged_folder(report.out_dir) as staging:
        model.save_pretrained(staging)  # safetensors, the default since transformers 4.35
        tokenizer.save_pretrained(staging)
        _copy_sentence_transformers_files(base.path, staging)
        name = base.name if base.name.endswith(MODEL_NAME_SUFFIX) else f"{base.name}{MODEL_NAME_SUFFIX}"
        (staging / "README.md").write_text(_model_card(name, base, data, report), encoding="utf-8")
        metadata = _metadata(name, base, data, config, report, device)
        (staging / FINETUNE_FILE).write_text(json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8")


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
        f"{base.version} fine-tuned by listing-dedup (encoders/training/finetune.py) with a symmetric InfoNCE loss on "
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
