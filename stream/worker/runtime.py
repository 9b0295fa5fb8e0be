"""Wiring: settings -> model, stores, Kafka clients -> worker or replayer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Consumer

from decider.bundle import ModelBundle
from encoders.images.fetch import FetchLimits
from infra.cache import EmbeddingCache
from infra.milvus.store import ListingStore
from stream.kafka import EventProducer, consumer_config, ensure_topics
from stream.settings import Settings
from stream.worker.batching import MicroBatcher
from stream.worker.health import WorkerHealth
from stream.worker.live import Worker
from stream.worker.metrics import WorkerMetrics
from stream.worker.photos import PhotoStep, photo_loader
from stream.worker.pipeline import DedupPipeline
from stream.worker.processor import BatchProcessor

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a worker or replayer needs, opened once and closed together."""

    settings: Settings
    model: ModelBundle
    store: ListingStore
    cache: EmbeddingCache | None
    producer: EventProducer
    pipeline: DedupPipeline

    def processor(self) -> BatchProcessor:
        return BatchProcessor(
            self.pipeline,
            self.producer,
            duplicates_topic=self.settings.topics.duplicates,
            dlq_topic=self.settings.topics.dlq,
            max_title_chars=self.settings.worker.max_title_chars,
        )

    def batcher(self, *, fill: bool = False) -> MicroBatcher:
        """``fill``: batches wait out the timer to fill (backfills want throughput; the live worker, latency)."""
        worker = self.settings.worker
        linger_s = worker.batch_timeout_s if fill else worker.batch_linger_ms / 1000
        return MicroBatcher(worker.batch_max_size, worker.batch_timeout_s, linger_s=linger_s)

    def pipelined(self) -> bool:
        """Overlapping the encoder with Milvus pays only where Milvus runs elsewhere: Milvus Lite is Python in
        this process, and measured no faster pipelined, with twice the latency (README, Figures)."""
        setting = self.settings.worker.pipelined
        return setting == "on" or (setting == "auto" and not self.store.is_lite)

    def consumer(self, group_id: str | None = None) -> Consumer:
        kafka = self.settings.kafka
        return Consumer(consumer_config(kafka.client_config(), group_id or kafka.group_id, kafka.session_timeout_ms))

    def worker(
        self, stop: threading.Event | None = None, *, metrics: WorkerMetrics | None = None,
        health: WorkerHealth | None = None,
    ) -> Worker:
        """``health``: told what this runtime opened (model, Milvus, Redis) for /readyz."""
        worker_settings = self.settings.worker
        metrics = metrics or WorkerMetrics()
        metrics.watch_cache(self.cache)
        health = health or WorkerHealth(worker_settings.liveness_timeout_s)
        self.report_ready(health)
        return Worker(
            self.consumer(),
            self.processor(),
            topic=self.settings.topics.listings,
            batcher=self.batcher(),
            metrics=metrics,
            health=health,
            summary_interval_s=worker_settings.summary_interval_s,
            retry_backoff_s=worker_settings.retry_backoff_s,
            retry_max_backoff_s=worker_settings.retry_max_backoff_s,
            pipelined=self.pipelined(),
            stop=stop,
        )

    def report_ready(self, health: WorkerHealth) -> None:
        """The model and Milvus answered when this runtime opened; Redis is asked again while it runs."""
        health.set("model", True, self.model.version)
        health.set("milvus", True, f"collection {self.settings.milvus.collection}")
        if self.cache is None:
            health.set("redis", True, "cache off")
        else:
            health.probe("redis", self.cache.ping)


def load_model(settings: Settings, model_dir: Path | None = None) -> ModelBundle:
    """The model folder (default: DEDUP_MODEL_DIR) with the configured encoder settings and base encoder."""
    encoder = settings.encoder
    return ModelBundle.load(
        model_dir or settings.model.model_dir,
        text_model_path=encoder.text_model_path,
        device=encoder.device,
        batch_size=encoder.batch_size,
        max_length=encoder.max_length,
        compile_model=encoder.compile_model,
    )


@contextmanager
def open_runtime(settings: Settings, model: ModelBundle | None = None) -> Iterator[Runtime]:
    client = settings.kafka.client_config()
    topics = settings.topics
    # The broker first: one that cannot be reached is a one-line error before seconds of model loading.
    ensure_topics(client, [topics.listings, topics.duplicates, topics.dlq], topics.partitions)
    model = model or load_model(settings)
    milvus = settings.milvus
    store = ListingStore(
        milvus.uri,
        milvus.collection,
        model_version=model.embedding_version,
        dim=model.reducer.dim,
        token=milvus.token.get_secret_value() if milvus.token else None,
        index_type=milvus.index_type,
        ivf=milvus.ivf_tuning(),
        lexical=milvus.lexical_candidates > 0,
    )
    store.ensure_collection()
    cache = _open_cache(settings, model)
    producer = EventProducer.create(client)
    pipeline = DedupPipeline(
        model,
        store,
        cache,
        candidates=milvus.candidates,
        group_candidates=milvus.group_candidates,
        lexical_candidates=milvus.lexical_candidates if store.lexical else 0,
        photos=_photo_step(settings, model),
        photo_candidates=settings.photos.candidates if model.images is not None else 0,
    )
    try:
        yield Runtime(settings, model, store, cache, producer, pipeline)
    finally:
        try:
            producer.flush()
        finally:
            producer.close()
            store.close()
            if pipeline.photos is not None:
                pipeline.photos.close()


def _photo_step(settings: Settings, model: ModelBundle) -> PhotoStep | None:
    """Photos are hashed always and embedded when the model has an image encoder; says what is off."""
    photos = settings.photos
    if not photos.enabled:
        return None
    hosts = photos.hosts()
    if photos.root is None and hosts is not None and not hosts:
        log.info("photos: no DEDUP_PHOTOS_ROOT and no DEDUP_PHOTOS_ALLOWED_HOSTS, so listings' photos are not read")
        return None
    if model.images is None:
        log.info("photos: the model has no image encoder; photos give perceptual hashes only")
    limits = FetchLimits(
        connect_timeout_s=photos.connect_timeout_s,
        read_timeout_s=photos.read_timeout_s,
        max_bytes=photos.max_bytes,
        max_pixels=photos.max_pixels,
    )
    loader = photo_loader(photos.root, hosts, limits, photos.threads)
    return PhotoStep(loader, model.embed_photos if model.images is not None else None)


def _open_cache(settings: Settings, model: ModelBundle) -> EmbeddingCache | None:
    redis = settings.redis
    if not redis.enabled:
        return None
    cache = EmbeddingCache.from_url(
        redis.url.get_secret_value(), namespace=f"dedup:{model.embedding_version}", ttl_seconds=redis.ttl_seconds
    )
    if not cache.ping():
        log.warning("redis is not reachable: running without the embedding cache until it is")
    return cache
