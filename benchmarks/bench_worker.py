"""Kept for old commands and `make bench`: the measurement moved into the product as `dedup bench`.

    .venv/bin/python benchmarks/bench_worker.py --listings 2000   # = dedup bench --listings 2000 --json

Every argument is passed on to `dedup bench` (see `dedup bench --help`); it prints ONE JSON object.
"""

from __future__ import annotations

import sys

from stream.commands.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--json", *sys.argv[1:]]))
