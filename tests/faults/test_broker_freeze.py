"""The broker frozen (SIGSTOP) for longer than the consumer's session timeout, then resumed."""

from __future__ import annotations

import os
import signal
import time

import pytest

from decider.bundle import ModelBundle
from infra.stack.services import kafka_bootstrap_for
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

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

FREEZE_OVER_SESSION = 1.5  # the freeze lasts this many session timeouts
CATCH_UP_S = 180.0


def test_a_broker_frozen_past_the_session_timeout_loses_nothing_and_the_same_worker_resumes(
    pipeline_settings: Settings, baseline_model: ModelBundle, private_broker: PrivateService
) -> None:
    settings = pipeline_settings
    bootstrap = kafka_bootstrap_for(private_broker.port)
    settings.kafka = settings.kafka.model_copy(update={"bootstrap_servers": bootstrap})
    freeze_s = FREEZE_OVER_SESSION * settings.kafka.session_timeout_ms / 1000
    settings.worker = settings.worker.model_copy(update={"batch_max_size": 8})  # still busy when the freeze comes
    listings, pairs = catalog_with_copies(n_products=40, seed=7)
    published = Published(expected_pairs=pairs)
    publish_valid(settings, listings[: len(listings) // 2], published)
    publish_invalid(settings, INVALID_RECORDS, published)

    with worker_thread(settings, baseline_model) as running:
        metrics = running.worker.metrics
        wait_until(lambda: metrics.processed > 0, CATCH_UP_S, "the worker's first batch")
        os.kill(private_broker.process.pid, signal.SIGSTOP)
        time.sleep(freeze_s)  # the outage itself: nothing to wait on
        processed_at_freeze = metrics.processed
        os.kill(private_broker.process.pid, signal.SIGCONT)
        later = [*listings[len(listings) // 2 :], listing("after-the-freeze", "Dyson V8 cordless vacuum")]
        publish_valid(settings, later, published)
        wait_until(lambda: caught_up(settings), CATCH_UP_S, "committed to the end after the freeze")
        assert running.thread.is_alive() and not running.errors, "the worker stopped instead of resuming"
        assert metrics.processed > processed_at_freeze, "nothing processed after the broker came back"
        session_s = settings.kafka.session_timeout_ms / 1000
        notes = f"frozen {freeze_s:g}s, session timeout {session_s:g}s; {metrics.retries} batch retries"

    check_zero_loss(settings, published, fault="broker frozen (SIGSTOP)", runs=1, letters_once=False, notes=notes)
