"""kill -9 of the worker process at random points, and between delivery and commit: nothing is lost."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from stream.settings import Settings
from stream.worker.faults import KILL_BEFORE_COMMIT_ENV
from tests.faults.checks import Published, check_zero_loss
from tests.faults.helpers import (
    INVALID_RECORDS,
    WorkerProcess,
    catalog_with_copies,
    listing,
    lite_unlocked,
    publish_invalid,
    publish_valid,
)
from tests.streaming import committed_and_ends, worker_env

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

KILLS = 10
# Where each run dies: "commit N" kills itself between delivery and the Nth commit (a random kill rarely
# lands there); "start" is a random point while it opens Milvus Lite (holding the file's lock) and joins;
# "batch" is a random point within its first batches.
PLAN = ["batch", "batch", "commit 1", "batch", "start", "batch", "commit 2", "batch", "start", "batch"]
AFTER_JOIN_S = (0.0, 2.5)
DURING_START_S = (0.0, 1.0)
START_TIMEOUT_S = 120.0
# A killed member must leave the group quickly, or every restart waits out its session.
FAST_FAILOVER = {"DEDUP_KAFKA_SESSION_TIMEOUT_MS": "2000", "DEDUP_KAFKA_OPTIONS": '{"heartbeat.interval.ms": 400}'}


def test_kill_9_at_random_points_and_before_a_commit_loses_nothing(
    process_settings: Settings, spawn_worker: Callable[..., WorkerProcess]
) -> None:
    settings = process_settings
    settings.worker = settings.worker.model_copy(update={"batch_max_size": 8})  # many commits to fall between
    milvus_file = Path(settings.milvus.uri)
    rng = random.Random(1030)
    listings, pairs = catalog_with_copies(n_products=100, seed=29)
    rng.shuffle(listings)
    published = Published(expected_pairs=pairs)
    half = len(listings) // 2
    publish_valid(settings, listings[:half], published)
    publish_invalid(settings, INVALID_RECORDS, published)
    publish_valid(settings, listings[half:], published)

    kills = []
    for run, point in enumerate(PLAN):
        worker = spawn_worker(_env(settings, milvus_file, point), f"run-{run}")
        kills.append(_kill_at(worker, point, rng))
        assert lite_unlocked(milvus_file), "the killed worker's Milvus Lite lock outlived it"
    committed, ends = committed_and_ends(settings)
    assert committed != ends, "every listing was done before the last kill: the kills hit nothing"

    publish_valid(settings, [listing("after-the-kills", "Philips 1.7L electric kettle HD9350")], published)
    final_env = worker_env(settings, milvus_file, **FAST_FAILOVER, DEDUP_WORKER_BATCH_MAX_SIZE="64")  # the rest, fast
    final = spawn_worker(final_env, "final", "--until-idle", "4")
    assert final.wait(START_TIMEOUT_S + 120) == 0, final.log()[-3000:]
    committed, ends = committed_and_ends(settings)
    assert committed == ends, "the final run stopped before the end"
    check_zero_loss(
        settings, published, fault="kill -9 of the worker", runs=len(PLAN) + 1, letters_once=False,
        notes="; ".join(kills),
    )  # fmt: skip


def _env(settings: Settings, milvus_file: Path, point: str) -> dict[str, str]:
    extra = {KILL_BEFORE_COMMIT_ENV: point.split()[1]} if point.startswith("commit") else {}
    return worker_env(settings, milvus_file, **FAST_FAILOVER, **extra)


def _kill_at(worker: WorkerProcess, point: str, rng: random.Random) -> str:
    """Kills ``worker`` at ``point`` of the plan; returns where it died."""
    if point.startswith("commit"):
        worker.wait_for_log("assigned", START_TIMEOUT_S)
        code = worker.wait(START_TIMEOUT_S)
        assert "killing this process before its commit" in worker.log(), worker.log()[-3000:]
        where = f"before commit {point.split()[1]}"
    else:
        started = "MilvusLite server started" if point == "start" else "assigned"
        worker.wait_for_log(started, START_TIMEOUT_S)
        delay = rng.uniform(*(DURING_START_S if point == "start" else AFTER_JOIN_S))
        time.sleep(delay)  # a random point in the worker's life: nothing to wait on
        code = worker.kill()
        where = f"{delay:.1f}s after {'opening Milvus' if point == 'start' else 'joining'}"
    assert code == -9, f"exited {code} before its kill:\n{worker.log()[-3000:]}"
    return where
