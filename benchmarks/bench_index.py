"""Index memory per listing and recall@10 of true duplicates per index type, on Milvus Lite and a server.

    .venv/bin/python -m benchmarks.index.build_cache --listings 1000000   # once: the cached vectors
    .venv/bin/python benchmarks/bench_index.py --cache ~/.cache/listing-dedup/index-bench --json

Prints ONE JSON object (see benchmarks/index/cli.py); a progress bar on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root on the path, as `python -m` would put it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.index.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
