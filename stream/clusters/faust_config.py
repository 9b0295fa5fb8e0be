"""The faust app's broker settings, from the same KafkaSettings as the worker's librdkafka clients."""

from __future__ import annotations

import logging
import ssl
from typing import Any

import faust

from stream.settings import ClusterSettings, KafkaSettings, SettingsError

log = logging.getLogger(__name__)


def broker_urls(kafka: KafkaSettings) -> list[str]:
    return [f"kafka://{host.strip()}" for host in kafka.bootstrap_servers.split(",") if host.strip()]


def credentials(kafka: KafkaSettings) -> Any:
    """faust's (aiokafka's) form of the security settings; librdkafka's ``options`` do not apply to it."""
    if kafka.options:
        log.warning("DEDUP_KAFKA_OPTIONS are librdkafka options: the clusters app (aiokafka) ignores them")
    protocol = kafka.security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl.create_default_context(cafile=kafka.ssl_ca_location) if protocol.endswith("SSL") else None
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    if kafka.sasl_username is None or kafka.sasl_password is None:
        raise SettingsError(f"DEDUP_KAFKA_SECURITY_PROTOCOL={protocol} needs DEDUP_KAFKA_SASL_USERNAME and _PASSWORD")
    return faust.SASLCredentials(
        username=kafka.sasl_username,
        password=kafka.sasl_password.get_secret_value(),
        ssl_context=context,
        mechanism=kafka.sasl_mechanism or "PLAIN",
    )


# tansu (the embedded broker) reports a partition's high watermark as its last record *batch's* base offset + 1;
# faust's table recovery reads the changelog up to that offset and so misses the rest of the last batch
# (measured: a restart lost the last 2 of 6 records). Batches of one record make it the true end.
TANSU_CLUSTER_ID = "tansu_cluster"


def app_options(kafka: KafkaSettings, clusters: ClusterSettings, *, one_record_batches: bool = False) -> dict[str, Any]:
    """``one_record_batches``: for tansu (see TANSU_CLUSTER_ID); a real cluster batches as usual."""
    session_s = kafka.session_timeout_ms / 1000
    batching = {"producer_max_batch_size": 1} if one_record_batches else {}
    return {
        **batching,
        "broker": broker_urls(kafka),
        "broker_credentials": credentials(kafka),
        # The changelog topic is the table's durability: a store is rebuilt (rocksdb: caught up) from it on start.
        "store": f"{clusters.store}://",
        "datadir": str(clusters.data_dir),
        "web_enabled": True,
        "web_port": clusters.web_port,
        "web_bind": clusters.web_host,
        "broker_session_timeout": session_s,
        "broker_heartbeat_interval": min(3.0, session_s / 5),
        "consumer_auto_offset_reset": "earliest",
        "topic_replication_factor": clusters.replication_factor,
        "topic_partitions": 1,
        "autodiscover": False,
    }


# Memtables (2 x 32 MiB) plus the block cache bound RocksDB's memory; faust's defaults (3 x 64 MiB and a
# 2 GiB cache) would outgrow a small pod.
ROCKSDB_WRITE_BUFFER_BYTES = 32 * 2**20
ROCKSDB_WRITE_BUFFERS = 2


def table_options(clusters: ClusterSettings) -> dict[str, Any] | None:
    """The table's store options: RocksDB's memory bounds, or None for the memory store."""
    if clusters.store != "rocksdb":
        return None
    return {
        "block_cache_size": clusters.rocksdb_cache_mb * 2**20,
        "write_buffer_size": ROCKSDB_WRITE_BUFFER_BYTES,
        "max_write_buffer_number": ROCKSDB_WRITE_BUFFERS,
    }
