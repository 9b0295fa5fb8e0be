"""How the store sizes and reads its Milvus calls: chunk sizes, the consistency level, query limits."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

# The collection's default, the reindex copy's reads, and a client's reads before its first write: Strong
# waits for every write acknowledged anywhere before the read (on a server, up to a time tick: ~200 ms).
CONSISTENCY = "Strong"
# A client's reads after its own writes: they wait only for writes up to this client's last one. A batch
# upserts before it searches, so that covers its own listings, its earlier batches', and every other
# worker's acknowledged before that upsert: what Strong would add is only later than the batch's own listings.
AFTER_OWN_WRITES = "Session"
# Members returned per group query: a group larger than this is compared with its latest members.
MEMBER_QUERY_LIMIT = 16_384

# Chunk sizes keep each gRPC message well under Milvus' 64 MiB request limit (a row holds two
# dim-d vectors and at most MAX_ATTRIBUTES_BYTES of attributes).
UPSERT_CHUNK_ROWS = 2_000
SEARCH_CHUNK_QUERIES = 1_024
FETCH_CHUNK_IDS = 1_000

_Chunkable = TypeVar("_Chunkable", bound=Sequence[Any] | np.ndarray)


def chunks(items: _Chunkable, size: int) -> Iterator[_Chunkable]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
