"""``dedup run``: the live worker, until stopped, idle or done."""

from __future__ import annotations

from stream.broker import connect
from stream.commands.exit_codes import EXIT_OK
from stream.commands.options import RunOptions
from stream.commands.shutdown import stop_on_signals
from stream.settings import Settings


def cmd_run(options: RunOptions, settings: Settings) -> int:
    connect(settings.kafka.client_config())  # an unusable broker is one line now, not after the model's imports
    from stream.worker.health import HealthServer, WorkerHealth
    from stream.worker.metrics import WorkerMetrics
    from stream.worker.runtime import open_runtime  # torch, transformers, pymilvus: seconds

    metrics, health = WorkerMetrics(), WorkerHealth(settings.worker.liveness_timeout_s)
    port = settings.worker.metrics_port
    # Up before the model loads: /healthz says "starting" and /readyz "model waiting" meanwhile.
    server = HealthServer(health, metrics.registry, port) if port else None
    try:
        with stop_on_signals(settings.worker.shutdown_grace_s) as stop, open_runtime(settings) as runtime:
            worker = runtime.worker(stop, metrics=metrics, health=health)
            metrics = worker.run(max_events=options.max_events, until_idle=options.until_idle)
    finally:
        if server is not None:
            server.close()
    print(
        f"processed {metrics.processed} listings, {metrics.duplicates} duplicate-found events, "
        f"{metrics.dead_lettered} dead letters, {metrics.retries} retries"
    )
    return EXIT_OK
