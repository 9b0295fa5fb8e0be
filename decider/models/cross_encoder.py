"""A pair cross-encoder as the worker uses it: two listing texts in, one logit out.

It reads both titles in one pass, so attention sees which words differ (a colour, a size, a model
number) where the bi-encoder only compares two summaries; that costs one model call per pair, so the
banded decider (``decider.models.banded``) sends it only the pairs the trees are unsure about.
Fine-tuning is offline (``decider.training.cross_encoder``); this module only loads and scores.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from decider.errors import DeciderError
from encoders.batching import length_sorted_batches
from encoders.text import pick_device

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Two titles with [CLS] and two [SEP]: 128 tokens hold long marketplace titles whole.
DEFAULT_MAX_LENGTH = 128
DEFAULT_BATCH_SIZE = 32

# One tokenized pair: input ids and, for BERT-family models, the segment (token type) ids.
PairTokens = tuple[list[int], list[int] | None]


class CrossEncoder:
    """``score(texts_a, texts_b)`` -> one logit per pair (higher = more likely the same product).

    ``version`` hashes the config and the whole weights file: a fine-tuned cross-encoder keeps its
    base model's file size, and its first bytes (the safetensors header) barely change.
    """

    def __init__(
        self,
        model_path: Path | str,
        *,
        device: str = "auto",
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_length: int = DEFAULT_MAX_LENGTH,
    ) -> None:
        if batch_size < 1 or max_length < 4:
            raise ValueError(f"need batch_size >= 1 and max_length >= 4, got {batch_size} and {max_length}")
        self.model_path = Path(model_path)
        self.device = pick_device(device)
        self.batch_size = batch_size
        self.max_length = max_length
        self.version = cross_encoder_version(self.model_path)
        self._tokenizer, self._model = load_pair_model(self.model_path, self.device)

    def __repr__(self) -> str:
        return f"CrossEncoder(version={self.version!r}, device={str(self.device)!r})"

    def score(self, texts_a: Sequence[str], texts_b: Sequence[str]) -> np.ndarray:
        """Logits, float32, in the order of the pairs; length-sorted micro-batches cut the padding."""
        if len(texts_a) != len(texts_b):
            raise ValueError(f"texts_a has {len(texts_a)} texts but texts_b has {len(texts_b)}")
        logits = np.empty(len(texts_a), dtype=np.float32)
        if len(texts_a) == 0:
            return logits
        tokens = tokenize_pairs(self._tokenizer, texts_a, texts_b, self.max_length)
        with torch.inference_mode(), autocast(self.device):
            for rows in length_sorted_batches([ids for ids, _ in tokens], self.batch_size):
                inputs = pad_pairs([tokens[row] for row in rows], self._pad_token_id, self.device)
                logits[rows] = self._model(**inputs).logits[:, 0].float().cpu().numpy()
        return logits

    @property
    def _pad_token_id(self) -> int:
        return int(self._tokenizer.pad_token_id)

    def save(self, directory: Path) -> None:
        """Copy the model folder's files byte for byte (so the version is unchanged), all or nothing."""
        directory = Path(directory)
        if directory.resolve() == self.model_path.resolve():
            return
        staging = directory.with_name(f".{directory.name}.{os.getpid()}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            staging.mkdir(parents=True)
            for source in self.model_path.iterdir():
                if source.is_file():
                    shutil.copyfile(source, staging / source.name)
            shutil.rmtree(directory, ignore_errors=True)
            os.replace(staging, directory)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def cross_encoder_version(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        digest.update((path / "config.json").read_bytes())
        with _weights_file(path).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError as exc:
        raise DeciderError(f"no cross-encoder at {path}: {exc.filename} is missing") from None
    return f"ce-{digest.hexdigest()[:12]}"


def load_pair_model(
    path: Path, device: torch.device, *, num_labels: int = 1
) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    """Tokenizer and one-logit classification model from a local folder; never downloads."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            path, num_labels=num_labels, local_files_only=True, trust_remote_code=False, ignore_mismatched_sizes=True
        )
    except (OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DeciderError(f"cannot load a cross-encoder from {path}: {first_line}") from exc
    if tokenizer.pad_token_id is None:
        raise DeciderError(f"the tokenizer in {path} defines no pad token; batching needs one")
    # fp32 weights whatever the checkpoint's dtype; autocast does the low-precision work on CUDA.
    return tokenizer, model.float().to(device).eval()


def tokenize_pairs(
    tokenizer: PreTrainedTokenizerBase, texts_a: Sequence[str], texts_b: Sequence[str], max_length: int
) -> list[PairTokens]:
    """Each pair as the model reads it; truncation trims the longer text first, so both keep their start."""
    encoded = tokenizer(
        list(texts_a), list(texts_b), truncation="longest_first", max_length=max_length, return_attention_mask=False
    )
    segments = encoded.get("token_type_ids")
    return [(ids, segments[row] if segments is not None else None) for row, ids in enumerate(encoded["input_ids"])]


def pad_pairs(batch: Sequence[PairTokens], pad_token_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    """Right-padded model inputs for a batch of tokenized pairs, on ``device``."""
    width = max(len(ids) for ids, _ in batch)
    input_ids = np.full((len(batch), width), pad_token_id, dtype=np.int64)
    attention_mask = np.zeros((len(batch), width), dtype=np.int64)
    segments = np.zeros((len(batch), width), dtype=np.int64)
    for row, (ids, types) in enumerate(batch):
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
        if types is not None:
            segments[row, : len(types)] = types
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    if batch[0][1] is not None:
        inputs["token_type_ids"] = segments
    return {name: torch.from_numpy(array).to(device) for name, array in inputs.items()}


def autocast(device: torch.device) -> AbstractContextManager[object]:
    """bf16 (fp16 where bf16 is missing) on CUDA; CPU runs in fp32, where autocast is slower, not faster."""
    if device.type != "cuda":
        return nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast(device_type="cuda", dtype=dtype)


def _weights_file(path: Path) -> Path:
    for name in WEIGHT_FILES:
        if (path / name).is_file():
            return path / name
    raise FileNotFoundError(2, "no weights file", str(path / WEIGHT_FILES[0]))
