"""``dedup reindex`` against a Milvus 2.3.5 server, in another process, while this one searches through the alias.

The server path differs from Milvus Lite where it matters here: photo vectors are an array field (one
vector field per collection before 2.4), there is no BM25 channel, and the reindex is a separate process
from the searches, as it would be beside running workers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
from pymilvus import MilvusClient

from decider.bundle import ModelBundle
from decider.synthetic.generator import generate_catalog
from encoders.listing import listing_text
from infra.milvus.aliases import physical_name, resolve
from infra.milvus.errors import StoreVersionMismatch
from infra.milvus.store import ListingStore
from tests.integration.test_milvus_server import milvus_server_uri  # noqa: F401 - the module's server fixture
from tests.integration.test_reindex import DIM, OLD_MODEL, PAST_MS, Searcher, _record, _unit

pytestmark = [pytest.mark.milvus_server, pytest.mark.slow, pytest.mark.integration]


def test_reindex_in_another_process_while_searches_answer_through_the_alias(
    milvus_server_uri: str,  # noqa: F811
    unique_name: Callable[[str], str],
    baseline_model: ModelBundle,
) -> None:
    alias = unique_name("reindexed")
    listings = generate_catalog(n_products=80, seed=12).listings
    rng = np.random.default_rng(4)
    text, photos = _unit(rng, len(listings)), _unit(rng, len(listings))
    old = ListingStore(milvus_server_uri, alias, model_version=OLD_MODEL, dim=DIM)
    old.ensure_collection()
    old.upsert([_record(listing, text[i], photos[i] if i % 2 else None, PAST_MS) for i, listing in enumerate(listings)])
    old.close()
    probe = listings[3]
    searcher = Searcher(milvus_server_uri, alias, baseline_model.embed([listing_text(probe)])[0])
    env = {**os.environ, "DEDUP_MILVUS_URI": milvus_server_uri, "DEDUP_MILVUS_COLLECTION": alias,
           "DEDUP_ENCODER_DEVICE": "cpu", "DEDUP_LOG_LEVEL": "WARNING"}
    searcher.start()
    try:
        searcher.wait_for(5)
        done = subprocess.run(
            [sys.executable, "-m", "stream.commands.cli", "reindex", "--model", str(baseline_model.directory)],
            env=env, capture_output=True, text=True, timeout=240, check=False,
        )
        switched_by = len(searcher.searches)
        searcher.wait_for(switched_by + 5)
    finally:
        searcher.halt.set()
        searcher.join(timeout=30)

    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    new_collection = physical_name(alias, baseline_model.embedding_version)
    assert summary["new_collection"] == new_collection and summary["listings"] == len(listings)
    assert summary["images"] == "kept"
    client = MilvusClient(uri=milvus_server_uri)
    assert resolve(client, alias, 10) == new_collection
    assert not searcher.failures, searcher.failures[:3]
    is_new = [s.top_id == probe["listing_id"] and s.similarity > 0.99 for s in searcher.searches]
    assert not is_new[0] and is_new[-1], "the old collection answered first, the new one last"
    flips = sum(a != b for a, b in zip(is_new, is_new[1:], strict=False))
    assert flips == 1, "once switched, every search is answered by the new collection"
    photos_kept = client.query(new_collection, filter="has_image == true", output_fields=["count(*)"])
    assert photos_kept[0]["count(*)"] == len(listings) // 2
    with pytest.raises(StoreVersionMismatch, match=f"alias '{alias}'"):
        ListingStore(milvus_server_uri, alias, model_version=OLD_MODEL, dim=DIM).ensure_collection()
