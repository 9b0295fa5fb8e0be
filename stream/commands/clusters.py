"""``dedup clusters``: the faust app that groups duplicate pairs into clusters (stream.clusters), until stopped."""

from __future__ import annotations

import logging

from stream.broker import connect
from stream.commands.exit_codes import EXIT_OK
from stream.kafka import ensure_topics
from stream.settings import Settings

log = logging.getLogger(__name__)


def cmd_clusters(settings: Settings, log_level: str = "INFO") -> int:
    client = settings.kafka.client_config()
    _, metadata = connect(client)  # an unusable broker is one line now, not a faust traceback
    topics = settings.topics
    ensure_topics(client, [topics.duplicates, topics.clusters, topics.dlq], topics.partitions)
    settings.clusters.data_dir.mkdir(parents=True, exist_ok=True)
    import faust  # aiokafka, aiohttp, mode: imported only for this command

    from stream.clusters.app import build_app
    from stream.clusters.faust_config import TANSU_CLUSTER_ID

    app = build_app(settings, tansu=metadata.cluster_id == TANSU_CLUSTER_ID)
    log.info(
        "clusters app %s: %s -> %s, /healthz and /metrics on port %d",
        settings.clusters.app_id, topics.duplicates, topics.clusters, settings.clusters.web_port,
    )  # fmt: skip
    # SIGTERM/SIGINT stop the worker: it commits what it processed and exits; our logging stays as configured.
    worker = faust.Worker(app, loglevel=log_level, quiet=True, redirect_stdouts=False, override_logging=False)
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise
    return EXIT_OK
