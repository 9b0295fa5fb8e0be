"""What can stop a benchmark run; light, so the CLI can name it at start-up."""

from __future__ import annotations


class BenchError(RuntimeError):
    """The benchmark could not measure what it was asked to (one line for the user)."""
