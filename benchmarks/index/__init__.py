"""Index memory and recall at 1M vectors (issue 11 item 4).

sources (what goes into the cache: real listings, synthetic blocks, their duplicate groups), cache (the
chunked, resumable vector file), build_cache (encoding it once), recall and projection (pure arithmetic),
servers (Milvus Lite / the ``milvus`` 2.3 server, with the process whose memory is measured),
measure (one index type: build, load, RSS, search, recall) and cli (``benchmarks/bench_index.py``).
"""
