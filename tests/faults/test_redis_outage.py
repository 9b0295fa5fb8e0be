"""Redis killed mid-run and restarted on the same port: nothing lost, and the cache is used again."""

from __future__ import annotations

import pytest
import redis
from pydantic import SecretStr

from decider.bundle import ModelBundle
from infra.stack.services import redis_url_for, wait_for_redis
from stream.settings import Settings
from tests.faults.checks import Published, check_zero_loss
from tests.faults.helpers import (
    INVALID_RECORDS,
    PrivateService,
    catalog_with_copies,
    caught_up,
    listing,
    publish_invalid,
    publish_valid,
    wait_until,
    worker_thread,
)
from tests.services import START_TIMEOUT_S

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

CATCH_UP_S = 180.0


def test_redis_down_and_back_loses_nothing_and_the_cache_is_used_again(
    pipeline_settings: Settings, baseline_model: ModelBundle, private_redis: PrivateService
) -> None:
    settings = pipeline_settings
    url = redis_url_for(private_redis.port)
    settings.redis = settings.redis.model_copy(update={"url": SecretStr(url)})
    settings.worker = settings.worker.model_copy(update={"batch_max_size": 16})
    listings, pairs = catalog_with_copies(n_products=40, seed=13, copy_every=2)
    originals = [item for item in listings if not item["listing_id"].endswith("-copy")]
    copies = [item for item in listings if item["listing_id"].endswith("-copy")]
    before, during, after = originals[::3], originals[1::3], originals[2::3]
    published = Published(expected_pairs=pairs)

    with worker_thread(settings, baseline_model) as running:
        cache = running.runtime.cache
        assert cache is not None
        publish_valid(settings, before, published)
        wait_until(lambda: caught_up(settings), CATCH_UP_S, "the listings before the outage")
        assert _counts(url)[0] > 0, "the cache was not written before the outage"

        private_redis.process.kill()  # SIGKILL: no goodbye to the clients
        private_redis.process.wait(10)
        publish_valid(settings, during, published)
        publish_invalid(settings, INVALID_RECORDS, published)
        wait_until(lambda: caught_up(settings), CATCH_UP_S, "the listings while Redis was down")
        errors_while_down = cache.errors
        assert errors_while_down > 0, "the worker never noticed that Redis was gone"

        private_redis.restart()
        wait_for_redis(url, START_TIMEOUT_S, process=private_redis.process)
        publish_valid(settings, after, published)
        wait_until(lambda: caught_up(settings), CATCH_UP_S, "the listings after the restart")
        # Exact copies have their originals' content hash: found in the cache if it is read again.
        publish_valid(settings, [*copies, listing("after-the-outage", "Bosch Serie 4 dishwasher")], published)
        wait_until(lambda: caught_up(settings), CATCH_UP_S, "the copies")
        keys, hits, misses = _counts(url)
        assert running.thread.is_alive() and not running.errors

    assert keys > 0, "nothing written to the restarted Redis"
    assert hits > 0, "the restarted Redis was never read with a hit"
    notes = f"{errors_while_down} cache calls failed while down; restarted: {keys} keys, {hits} hits, {misses} misses"
    check_zero_loss(settings, published, fault="Redis killed and restarted", runs=1, letters_once=True, notes=notes)


def _counts(url: str) -> tuple[int, int, int]:
    """Keys held, and reads that hit and missed, since this redis-server started."""
    client = redis.Redis.from_url(url)
    try:
        stats = client.info("stats")
        return int(client.dbsize()), int(stats["keyspace_hits"]), int(stats["keyspace_misses"])
    finally:
        client.close()
