"""One index type on one backend: build (insert, flush, index), then serve in a fresh process (RSS, searches).

Memory is measured, not computed: the RSS growth of the process that holds the index, from just before the
collection is loaded (connected and warmed up on a 2,000-row collection of the same index type) to after the
searches. The collection has only what the index needs, an INT64 key and the 128-d vector, so the growth is
the text field's index and its ids.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import psutil

from benchmarks.index.plans import IndexPlan

COLLECTION = "index_bench"
VECTOR_FIELD = "v"
METRIC = "IP"  # the worker's: inner product on L2-normalised vectors = cosine
INSERT_ROWS = 10_000  # rows per insert call: ~5 MB of vectors, far below gRPC's 64 MB
PROBE_ROWS = 2_000  # above the server's 1,024-row minimum for indexing a sealed segment
WARMUP = f"{COLLECTION}_warmup"
WARMUP_BATCHES = 4
INDEX_WAIT_S = 3_600.0
POLL_S = 1.0


class IndexRefused(RuntimeError):
    """The backend does not build this index type (its message says why)."""


@dataclass(frozen=True)
class Served:
    rss_before: int  # Lite: before the file is opened (its engine's threads and modules not yet there)
    rss_opened: int  # connected and warmed up, collection not loaded: the baseline of the index's memory
    rss_loaded: int
    rss_searched: int
    load_s: float
    latencies_s: list[float]
    results: list[list[int]]
    anon_opened: int = 0  # the anonymous (heap) part of the RSS: what the kernel cannot page back to a file
    anon_searched: int = 0

    @property
    def memory_bytes(self) -> int:
        return max(self.rss_loaded, self.rss_searched) - self.rss_opened

    @property
    def memory_settled(self) -> bool:
        """False when the RSS fell below its baseline while loading and searching: the process was still
        releasing earlier memory (a server replaying its log after the restart), so the growth is not the
        index's (seen at 1M: 811 MB before loading, 644 MB after searching)."""
        return min(self.rss_loaded, self.rss_searched) >= self.rss_opened

    @property
    def anon_memory_bytes(self) -> int:
        """Growth of the heap alone: memory-mapped files (mmapDirPath) count in the RSS but can be evicted."""
        return self.anon_searched - self.anon_opened


def probe(uri: str, plan: IndexPlan, vectors: np.ndarray) -> None:
    """Builds the index on a few rows first, so a refused type costs no insert of all the vectors.

    Rows, not an empty collection: Lite accepts any index type there and refuses it at the build.
    The small collection stays: ``serve`` loads and searches it first to warm the process up.
    """
    from pymilvus import MilvusClient

    client = MilvusClient(uri)
    try:
        _create(client, WARMUP, vectors.shape[1])
        client.insert(WARMUP, [{"id": i, VECTOR_FIELD: row} for i, row in enumerate(vectors[:PROBE_ROWS])])
        client.flush(WARMUP)
        _create_index(client, WARMUP, plan)
        _wait_indexed(client, WARMUP, min(PROBE_ROWS, len(vectors)))
    finally:
        client.close()


def build(uri: str, plan: IndexPlan, vectors: np.ndarray) -> dict[str, float]:
    """Inserts every vector (key = row number), flushes, builds the index; the seconds each took."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri)
    try:
        _create(client, COLLECTION, vectors.shape[1])
        began = time.perf_counter()
        for start in range(0, len(vectors), INSERT_ROWS):
            rows = vectors[start : start + INSERT_ROWS]
            client.insert(COLLECTION, [{"id": start + i, VECTOR_FIELD: row} for i, row in enumerate(rows)])
        client.flush(COLLECTION)
        inserted = time.perf_counter()
        _create_index(client, COLLECTION, plan)
        _wait_indexed(client, COLLECTION, len(vectors))
        return {"insert_s": inserted - began, "build_s": time.perf_counter() - inserted}
    finally:
        client.close()


def serve_in_child(uri: str, plan: IndexPlan, queries: np.ndarray, limit: int, batch: int, pid: int | None) -> Served:
    """``serve`` in a fresh spawned process: Lite's memory is then the child's alone."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(serve, uri, plan, queries, limit, batch, pid).result()


def serve(uri: str, plan: IndexPlan, queries: np.ndarray, limit: int, batch: int, pid: int | None) -> Served:
    """Loads the collection and searches it ``batch`` queries per call; ``pid`` None: this process holds it.

    The warm-up collection is loaded and searched first: the fixed costs of a first load and first
    searches (thread pools, buffers) then fall before the baseline, not on the vectors.
    """
    from pymilvus import MilvusClient

    holder = pid or os.getpid()
    rss_before = rss(holder)
    client = MilvusClient(uri)
    try:
        client.load_collection(WARMUP)
        _search_all(client, WARMUP, plan, queries[: WARMUP_BATCHES * batch], limit, batch)
        rss_opened, anon_opened = rss(holder), anon_rss(holder)
        began = time.perf_counter()
        client.load_collection(COLLECTION)
        load_s = time.perf_counter() - began
        rss_loaded = rss(holder)
        latencies, results = _search_all(client, COLLECTION, plan, queries, limit, batch)
        return Served(
            rss_before, rss_opened, rss_loaded, rss(holder), load_s, latencies, results, anon_opened, anon_rss(holder)
        )
    finally:
        client.close()


def rss(pid: int) -> int:
    """Resident bytes of a process and its children (the server binary may fork helpers)."""
    return _resident(pid, lambda info: info.rss)


def anon_rss(pid: int) -> int:
    """Resident bytes not backed by a file (RSS less its shared/file-backed pages), process and children."""
    return _resident(pid, lambda info: info.rss - info.shared)


def _resident(pid: int, part: Callable[[Any], int]) -> int:
    process = psutil.Process(pid)
    total = part(process.memory_info())
    for child in process.children(recursive=True):
        try:
            total += part(child.memory_info())
        except psutil.NoSuchProcess:
            continue
    return int(total)


def _search_all(
    client: Any, name: str, plan: IndexPlan, queries: np.ndarray, limit: int, batch: int
) -> tuple[list[float], list[list[int]]]:
    latencies: list[float] = []
    results: list[list[int]] = []
    for start in range(0, len(queries), batch):
        block = queries[start : start + batch]
        began = time.perf_counter()
        hits = client.search(
            name,
            data=[row.tolist() for row in block],
            limit=limit,
            anns_field=VECTOR_FIELD,
            search_params={"metric_type": METRIC, "params": plan.search_params},
        )
        latencies.append(time.perf_counter() - began)
        results += [[int(hit["id"]) for hit in found] for found in hits]
    return latencies, results


def _create(client: Any, name: str, dim: int) -> None:
    from pymilvus import DataType, MilvusClient

    if client.has_collection(name):
        client.drop_collection(name)
    schema = MilvusClient.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dim)
    # Nothing is written while searching: no consistency wait (Strong costs ~200 ms a call on the server).
    client.create_collection(name, schema=schema, consistency_level="Eventually")


def _create_index(client: Any, name: str, plan: IndexPlan) -> None:
    from pymilvus import MilvusException

    params = client.prepare_index_params()
    params.add_index(field_name=VECTOR_FIELD, index_type=plan.index_type, metric_type=METRIC, params=plan.build_params)
    try:
        client.create_index(name, params)
    except MilvusException as exc:
        raise IndexRefused(str(exc.message)) from None


def _wait_indexed(client: Any, name: str, rows: int) -> None:
    """The server builds per sealed segment, in the background: wait until every row is indexed."""
    deadline = time.monotonic() + INDEX_WAIT_S
    while True:
        state = client.describe_index(name, VECTOR_FIELD)
        if int(state.get("indexed_rows", 0)) >= rows and state.get("state", "Finished") == "Finished":
            return
        if state.get("state") == "Failed" or time.monotonic() > deadline:
            raise RuntimeError(f"index build did not finish: {state}")
        time.sleep(POLL_S)
