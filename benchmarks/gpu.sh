#!/usr/bin/env bash
# GPU throughput of the encoders and the worker's stages (issue 11 item 3): prints ONE JSON object
# and writes it to $OUT/gpu.json when $OUT is set. Under 8 minutes: the Python part stops starting
# sections after 390 s (--budget-s) and is killed at 450 s; each section rewrites $OUT/gpu.json.
#
# How to call it (it does not assume our venv: it runs on the device image's python3):
#   1. here, once:  bash benchmarks/gpu_wheels.sh   # .whl/gpu/: pydantic, pydantic-core, annotated-types,
#                                                     # typing-inspection, typing-extensions, orjson wheels
#                                                     # (cp312) + the MiniLM tokenizer/config, about 3.5 MiB
#   2. the `run` tool: command="bash benchmarks/gpu.sh", carry=[".whl/gpu"], timeout_s=480
#      then read gpu.json under the reply's files_at (or the JSON at the end of output_tail).
# Missing packages are installed from the carried wheels with:
#   python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/gpu/*.whl
# Here, the same code on the CPU with tiny models (< 60 s):  PYTHON=.venv/bin/python bash benchmarks/gpu.sh --smoke
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WHEELS=.whl/gpu

if ! "$PY" -c "import pydantic, orjson" 2>/dev/null; then
  ls "$WHEELS"/*.whl >/dev/null 2>&1 || { echo "no wheels in $WHEELS: run benchmarks/gpu_wheels.sh here and carry $WHEELS" >&2; exit 2; }
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl || exit 2
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader >&2 || true

minilm=()
[ -f "$WHEELS/minilm/tokenizer.json" ] && minilm=(--minilm-files "$WHEELS/minilm")
timeout 450 "$PY" -m benchmarks.gpu_bench "${minilm[@]}" "$@"
