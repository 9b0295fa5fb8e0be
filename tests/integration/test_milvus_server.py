"""ListingStore against a real standalone Milvus server (the ``milvus`` PyPI package, 2.3.x).

Milvus Lite cannot build IVF_PQ and has no separate server process; this module starts one
standalone server, runs the store round trip with each server index type and checks that the index
really gets built with the parameters the store chooses. DISKANN is left out: the 2.3.5 package's
binary fails every DISKANN build ("C Runtime Exception: bad_function_call") and retries forever.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from pymilvus import MilvusClient

if TYPE_CHECKING:
    from decider.bundle import ModelBundle
    from stream.settings import Settings

from infra.milvus.records import ListingRecord, Neighbour
from infra.milvus.schema import TEXT_FIELD, IvfTuning
from infra.milvus.store import ListingStore
from infra.stack.processes import log_tail, stop_process

pytestmark = [pytest.mark.milvus_server, pytest.mark.slow]

START_TIMEOUT_S = 180
# Milvus' own SIGTERM shutdown can hang for minutes; the data is throwaway, so do not wait long.
STOP_TIMEOUT_S = 5.0
INDEX_BUILD_TIMEOUT_S = 120.0
DIM = 128
ROWS = 3_000  # above Milvus' 1024-row minimum for building an index on a sealed segment
MIN_RECALL = {"HNSW": 0.9, "IVF_SQ8": 0.9, "IVF_PQ": 0.5}  # PQ trades recall for memory


@pytest.fixture(scope="module")
def milvus_server_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    milvus = pytest.importorskip(
        "milvus", reason="the standalone Milvus server comes from the `milvus` package: pip install milvus==2.3.5"
    )
    base_dir = tmp_path_factory.mktemp("milvus_server")
    # Ports are probed upwards from Milvus' defaults (19530, 2379, ...) until free ones are found.
    server = milvus.MilvusServer(milvus.MilvusServerConfig(data_dir=str(base_dir)), wait_for_started=False)
    server.start()
    try:
        server.wait_started(timeout=START_TIMEOUT_S * 1000)
    except (TimeoutError, RuntimeError) as exc:
        _stop(server)
        pytest.fail(f"Milvus server did not start: {exc}\n{log_tail(Path(base_dir) / 'logs' / 'milvus-stdout.log')}")
    try:
        yield f"http://127.0.0.1:{server.listen_port}"
    finally:
        _stop(server)
        shutil.rmtree(base_dir, ignore_errors=True)  # ~600 MB of unpacked binaries and data


def _stop(server: Any) -> None:  # milvus.MilvusServer, which ships no type hints
    stop_process(server.server_proc, STOP_TIMEOUT_S)
    server.stop()  # closes its log files; the process is already gone


def clustered_unit_vectors(count: int, seed: int) -> np.ndarray:
    """Listings cluster (near-duplicates, same product lines), which is what ANN indexes are tuned for."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((count // 20, DIM)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), count)] + 0.5 * rng.standard_normal((count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def records(text: np.ndarray, image: np.ndarray) -> list[ListingRecord]:
    return [
        ListingRecord(
            listing_id=f"listing-{i}",
            text_vector=text[i],
            image_vector=image[i] if i % 2 else None,
            category="phones",
            seller_id=f"seller-{i % 11}",
            created_at_ms=1_700_000_000_000 + i,
            price=None if i % 5 == 0 else 10.0 + i,
        )
        for i in range(len(text))
    ]


def wait_for_index(uri: str, collection: str, rows: int) -> dict[str, object]:
    """Flush so the rows form a sealed segment, poll until it is indexed, then reload to search it."""
    client = MilvusClient(uri=uri)
    try:
        client.flush(collection)
        deadline = time.monotonic() + INDEX_BUILD_TIMEOUT_S
        while True:
            index = client.describe_index(collection, TEXT_FIELD)
            if index["state"] == "Failed" or int(index["indexed_rows"]) >= rows:
                # Reloading makes the query node serve the sealed segment through its new index.
                client.release_collection(collection)
                client.load_collection(collection)
                return index
            if time.monotonic() > deadline:
                raise AssertionError(f"index on {collection} not built within {INDEX_BUILD_TIMEOUT_S}s: {index}")
            time.sleep(0.2)
    finally:
        client.close()


def recall_at_10(found: list[list[Neighbour]], queries: np.ndarray, stored: np.ndarray) -> float:
    """Share of the exact 10 nearest neighbours (numpy brute force) that the search returned."""
    exact = np.argsort(-(queries @ stored.T), axis=1)[:, :10]
    hits = 0
    for row, neighbours in enumerate(found):
        hits += len({f"listing-{i}" for i in exact[row]} & {n.listing_id for n in neighbours})
    return hits / (10 * len(found))


def test_a_server_without_bm25_runs_without_the_lexical_channel(
    milvus_server_uri: str, unique_name: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    """Milvus 2.3 has no full-text search: the store says so in one line and serves dense search alone."""
    store = ListingStore(milvus_server_uri, unique_name("nobm25"), model_version="test-model", lexical=True)
    try:
        with caplog.at_level(logging.WARNING, logger="infra.milvus.store"):
            store.ensure_collection()
        assert not store.lexical
        assert sum("lexical candidates (shared words, identifiers, photo hashes) off" in r.getMessage() for r in caplog.records) == 1
        text, image = clustered_unit_vectors(50, seed=3), clustered_unit_vectors(50, seed=4)
        store.upsert(records(text, image))
        assert store.search_text(["anything"], limit=5) == [[]]
        assert store.search(text[:1], limit=1)[0][0].listing_id == "listing-0"
    finally:
        store.drop()
        store.close()


@pytest.mark.parametrize("index_type", sorted(MIN_RECALL))
def test_store_round_trip_on_a_milvus_server(
    milvus_server_uri: str, unique_name: Callable[[str], str], index_type: str
) -> None:
    tuning = IvfTuning(nlist=64, nprobe=32)  # DEDUP_MILVUS_IVF_*; the other types ignore it
    store = ListingStore(
        milvus_server_uri, unique_name("server"), model_version="test-model", index_type=index_type, ivf=tuning
    )
    store.ensure_collection()
    try:
        text, image = clustered_unit_vectors(ROWS, seed=1), clustered_unit_vectors(ROWS, seed=2)
        store.upsert(records(text, image))

        fresh = store.search(text[:20], limit=5)  # before any flush: strong consistency must show them
        assert [hits[0].listing_id for hits in fresh] == [f"listing-{i}" for i in range(20)]
        store.upsert(records(text, image))
        assert store.count() == ROWS
        fetched = store.fetch_vectors(["listing-0", "listing-1"])
        np.testing.assert_array_equal(fetched["listing-1"][1], image[1])
        assert fetched["listing-0"][1] is None

        index = wait_for_index(milvus_server_uri, store.collection, ROWS)
        assert index["state"] == "Finished", index
        assert index["index_type"] == index_type
        if index_type.startswith("IVF"):
            assert int(index["nlist"]) == tuning.nlist, index

        recall = recall_at_10(store.search(text[:100], limit=10), text[:100], text)
        assert recall >= MIN_RECALL[index_type], f"{index_type} recall@10 {recall:.3f}"
    finally:
        store.drop()
        store.close()


def test_the_worker_runs_unchanged_against_a_milvus_server(
    milvus_server_uri: str, pipeline_settings: "Settings", baseline_model: "ModelBundle"
) -> None:
    """Same code as on Milvus Lite; only DEDUP_MILVUS_URI and the index type differ."""
    from decider.synthetic.generator import generate_catalog
    from stream.settings import Settings
    from stream.worker.runtime import open_runtime
    from tests.streaming import committed_and_ends, duplicate_events, publish

    settings = Settings(
        kafka=pipeline_settings.kafka.model_dump(),
        topics=pipeline_settings.topics.model_dump(),
        milvus={"uri": milvus_server_uri, "collection": pipeline_settings.milvus.collection, "index_type": "HNSW"},
        redis={"url": pipeline_settings.redis.url.get_secret_value()},
        model={"model_dir": baseline_model.directory},
        worker=pipeline_settings.worker.model_dump(),
    )
    catalog = generate_catalog(n_products=30, seed=31)
    publish(settings, catalog.listings)
    with open_runtime(settings, baseline_model) as runtime:
        metrics = runtime.worker().run(max_events=len(catalog.listings), until_idle=30)
        stored = runtime.store.count()
    assert metrics.processed == stored == len(catalog.listings)
    assert len(duplicate_events(settings)) == metrics.duplicates > 0
    committed, ends = committed_and_ends(settings)
    assert committed == ends


def test_reads_after_own_writes_see_them_and_every_write_acknowledged_before(
    milvus_server_uri: str, unique_name: Callable[[str], str]
) -> None:
    """The worker's reads use Session once its client wrote (no wait for the next time tick, unlike Strong):
    a batch searches right after its upsert and must find it, and what another worker stored before it."""
    name = unique_name("session")
    mine = ListingStore(milvus_server_uri, name, model_version="test-model", index_type="HNSW")
    mine.ensure_collection()
    other = ListingStore(milvus_server_uri, name, model_version="test-model", index_type="HNSW")
    other.ensure_collection()
    try:
        assert mine._read_level() == "Strong", "before its first write a client cannot rely on its own timestamp"
        text, image = clustered_unit_vectors(40, seed=5), clustered_unit_vectors(40, seed=6)
        rows = records(text, image)
        for i in range(0, 40, 2):
            other.upsert([rows[i]])  # another worker's listing, acknowledged first
            mine.upsert([rows[i + 1]])  # then this worker's batch ...
            assert mine._read_level() == "Session"
            hits = mine.search(text[i : i + 2], limit=1)  # ... searched at once
            assert [found[0].listing_id for found in hits] == [f"listing-{i}", f"listing-{i + 1}"]
            assert set(mine.stored_states([f"listing-{i}", f"listing-{i + 1}"])) == {f"listing-{i}", f"listing-{i + 1}"}
        assert mine.count() == 40
    finally:
        mine.drop()
        mine.close()
        other.close()
