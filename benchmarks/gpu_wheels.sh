#!/usr/bin/env bash
# Prepares .whl/gpu/ (git-ignored) for benchmarks/gpu.sh: run HERE, once, before the device call.
#
#   bash benchmarks/gpu_wheels.sh
#
# The device machine's image has torch, transformers, timm, scikit-learn, numpy, pillow and
# tokenizers, but not pydantic (encoders.listing) or orjson (infra.milvus.schema), and it reaches no
# registry: those travel as Python 3.12 manylinux wheels, pinned to the versions of our venv. The
# packaged MiniLM's tokenizer and config travel too; its weights do not (model.safetensors is 87 MiB,
# over the 64 MiB a call carries), so the benchmark gives the MiniLM architecture random weights.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DEST=.whl/gpu
PACKAGES=(pydantic pydantic-core annotated-types typing-inspection typing-extensions orjson)

rm -rf "$DEST"  # one version of each package, or the install there stops
mkdir -p "$DEST/minilm"
pins=$("$PY" -c 'import sys
from importlib.metadata import version
print(" ".join(f"{name}=={version(name)}" for name in sys.argv[1:]))' "${PACKAGES[@]}")
# shellcheck disable=SC2086
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$DEST" $pins
"$PY" - "$DEST/minilm" <<'PYEOF'
import shutil, sys
from pathlib import Path

from encoders.text import default_text_model_path

source, target = default_text_model_path(), Path(sys.argv[1])
for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
    shutil.copyfile(source / name, target / name)
PYEOF
ls -1 "$DEST"
echo "total: $(du -sb "$DEST" | cut -f1) bytes ($(du -sh "$DEST" | cut -f1)) in $DEST"
