"""``dedup bench``: offline measurement of the worker (throughput, stage shares, latency, memory).

Not on the worker's per-batch path: it drives the worker from outside, on the embedded stack.
"""
