"""``dedup clusters``: the faust app that keeps duplicate clusters in a changelog-backed table.

Clusters cross every partitioning a topic could have (any two listings may end up together), so the
duplicates topic's events are first forwarded, unchanged and in order per source partition, to one internal
single-partition topic (``<app id>-links``), and one agent applies them to a one-partition table. One
instance is active; others stand by for its partition. The table's changelog topic is its durability: the
memory store is rebuilt from it on start, and offsets are committed after the table's writes and the
cluster-updated events are flushed (faust's at-least-once), so a restart resumes where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
from prometheus_client import CollectorRegistry, Counter

from stream.clusters.events import CLUSTER_EVENT_TYPE, ClusterUpdated, cause_of, parse_duplicate_event
from stream.clusters.faust_config import app_options, table_options
from stream.clusters.graph import ClusterGraph
from stream.clusters.guard import Guard
from stream.events import EVENT_TYPE_HEADER, DeadLetter, DuplicateFound, InvalidEvent, SourcePosition, encode_event
from stream.settings import Settings

log = logging.getLogger(__name__)
TABLE = "clusters"
REBALANCE_POLL_S = 0.05
SOURCE_HEADERS = ("dedup.source.topic", "dedup.source.partition", "dedup.source.offset")


class ClusterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.consumed = Counter(
            "dedup_clusters_events_total", "duplicate events applied, by type (invalid: dead-lettered)",
            ["event_type"], registry=registry,
        )  # fmt: skip
        self.updates = Counter(
            "dedup_clusters_updates_total", "cluster-updated events sent, by action", ["action"], registry=registry
        )
        self.reviews = Counter("dedup_clusters_review_total", "links the guard routed to review", registry=registry)


def build_app(settings: Settings, registry: CollectorRegistry | None = None, *, tansu: bool = False) -> faust.App:
    """``tansu``: the broker is the embedded one, whose high watermarks need one-record batches."""
    clusters = settings.clusters
    app = faust.App(clusters.app_id, **app_options(settings.kafka, clusters, one_record_batches=tansu))
    registry = registry or CollectorRegistry()
    metrics = ClusterMetrics(registry)
    from faust.sensors.prometheus import setup_prometheus_sensors

    setup_prometheus_sensors(app, "/metrics", registry, name_prefix="dedup_clusters_faust")
    raw: dict[str, Any] = {"key_serializer": "raw", "value_serializer": "raw"}
    source = app.topic(settings.topics.duplicates, **raw)
    links = app.topic(f"{clusters.app_id}-links", partitions=1, internal=True, **raw)
    output = app.topic(settings.topics.clusters, **raw)
    dlq = app.topic(settings.topics.dlq, **raw)
    # str keys, JSON-able dict values: faust's json codec
    table = app.Table(TABLE, partitions=1, options=table_options(clusters))
    guard = Guard(free_size=clusters.free_size, base_score=clusters.base_score, max_size=clusters.max_size)

    @app.agent(source)
    async def forward(stream: faust.StreamT) -> None:
        async for event in stream.events():
            message = event.message
            await _rebalanced(app)
            await links.send(key=message.key, value=message.value, headers=_position_headers(message))

    @app.agent(links)
    async def apply(stream: faust.StreamT) -> None:
        graph = ClusterGraph(table, guard, clusters.history)  # the table is usable once the agent runs
        async for event in stream.events():
            position = _source(event.message.headers)
            try:
                updates = _apply(graph, event.message.value, position, metrics)
            except InvalidEvent as exc:
                metrics.consumed.labels("invalid").inc()
                letter = DeadLetter(event.message.key, event.message.value, str(exc), position)
                await dlq.send(key=letter.key, value=letter.value, headers=letter.headers())
                continue
            for update in updates:
                await output.send(
                    key=update.cluster_id.encode(),
                    value=encode_event(update),
                    headers=[(EVENT_TYPE_HEADER, CLUSTER_EVENT_TYPE.encode())],
                )
                metrics.updates.labels(update.action).inc()
                metrics.reviews.inc(len(update.review))

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        # ready: the table has been recovered once and no rebalance is under way (faust's own flags)
        ready = app.tables.recovery.completed.is_set() and not app.rebalancing
        return web.json({"status": "ok", "rebalancing": bool(app.rebalancing), "ready": ready})

    app.cluster_metrics = metrics  # type: ignore[attr-defined]
    return app


async def _rebalanced(app: faust.App) -> None:
    """Holds a forward until a rebalance's recovery is over: faust resumes the partitions, seeks them, and
    only then resumes the flow, and a link record fetched in between was seen dropped (tests on tansu:
    the apply agent never got it until a restart). Sent after the rebalance, it is fetched normally."""
    while app.rebalancing:
        await asyncio.sleep(REBALANCE_POLL_S)


def _apply(
    graph: ClusterGraph, value: bytes | None, position: SourcePosition, metrics: ClusterMetrics
) -> list[ClusterUpdated]:
    event = parse_duplicate_event(value)
    metrics.consumed.labels(event.event_type).inc()
    cause = cause_of(event, position)
    if isinstance(event, DuplicateFound):
        updates = graph.found(cause, [(match.listing_id, match.score) for match in event.matches])
    else:
        updates = graph.retracted(cause, event.retracts_event_id, event.retracted_matches)
    log.debug("%s %s: %d cluster updates", event.event_type, event.event_id, len(updates))
    return updates


def _position_headers(message: Any) -> list[tuple[str, bytes]]:
    position = (message.topic, message.partition, message.offset)
    return [(name, str(value).encode()) for name, value in zip(SOURCE_HEADERS, position, strict=True)]


def _source(headers: Any) -> SourcePosition:
    """The duplicates event's position, which the forwarding agent put in the headers."""
    values = dict(headers or ())
    values = {name: (value.decode() if isinstance(value, bytes) else str(value)) for name, value in values.items()}
    topic, partition, offset = (values.get(name, "") for name in SOURCE_HEADERS)
    return SourcePosition(topic=topic, partition=int(partition or -1), offset=int(offset or -1))
