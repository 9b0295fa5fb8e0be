"""``dedup run``: the live worker, until stopped, idle or done."""

from __future__ import annotations

from stream.broker import connect
from stream.commands.exit_codes import EXIT_OK
from stream.commands.options import RunOptions
from stream.commands.shutdown import stop_on_signals
from stream.settings import Settings


def cmd_run(options: RunOptions, settings: Settings) -> int:
    connect(settings.kafka.client_config())  # an unusable broker is one line now, not after the model's imports
    from stream.worker.runtime import open_runtime  # torch, transformers, pymilvus: seconds

    with stop_on_signals(settings.worker.shutdown_grace_s) as stop, open_runtime(settings) as runtime:
        worker = runtime.worker(stop)
        if settings.worker.metrics_port:
            worker.metrics.serve(settings.worker.metrics_port)
        metrics = worker.run(max_events=options.max_events, until_idle=options.until_idle)
    print(
        f"processed {metrics.processed} listings, {metrics.duplicates} duplicate-found events, "
        f"{metrics.dead_lettered} dead letters, {metrics.retries} retries"
    )
    return EXIT_OK
