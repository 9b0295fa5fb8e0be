"""``dedup check``: can this configuration run a worker? One line per dependency, then an exit code.

    broker: ok (127.0.0.1:19092: 4 topics, listings.created present)
    milvus: failed: Fail connecting to server on 127.0.0.1:1 ...
    redis: ok (PING answered)
    model: ok (.dedup/model: decider gradient-boosting, embedding ...; the collection holds it)

Each dependency gets at most ``--timeout`` seconds (the model: as long as loading takes). Exit 0 when all
answered; 3 when the broker did not (like `run`: a supervisor retries), else 1. Light at import: the
clients are imported by the check that uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass as plain_dataclass
from typing import Any

from pydantic import Field
from pydantic.dataclasses import dataclass

from stream.commands.exit_codes import EXIT_BROKER_UNAVAILABLE, EXIT_FAILED, EXIT_OK
from stream.settings import Settings

CHECK_SERVICE_FLAGS = (
    "--bootstrap-servers", "--topic", "--milvus-uri", "--collection", "--redis-url", "--model", "--device",
)
REASON_CHARS = 300  # a client's error can be pages long (gRPC); the line stays readable


@dataclass(frozen=True)
class CheckOptions:
    timeout: float = Field(default=5.0, gt=0, le=300, description="seconds each service may take to answer")


@plain_dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.name}: ok ({self.detail})" if self.ok else f"{self.name}: failed: {self.detail}"


def cmd_check(options: CheckOptions, settings: Settings) -> int:
    collection_version: list[str | None] = []  # what the milvus check found, for the model check
    checks: list[tuple[str, Callable[[], str]]] = [
        ("broker", lambda: check_broker(settings, options.timeout)),
        ("milvus", lambda: check_milvus(settings, options.timeout, collection_version)),
        ("redis", lambda: check_redis(settings, options.timeout)),
        ("model", lambda: check_model(settings, collection_version[0] if collection_version else None)),
    ]
    results = []
    for name, check in checks:
        result = run_check(name, check)
        print(result.line(), flush=True)  # as it goes: a slow one shows which
        results.append(result)
    return exit_code(results)


def run_check(name: str, check: Callable[[], str]) -> CheckResult:
    try:
        return CheckResult(name, True, check())
    except Exception as exc:  # any failure is this dependency's one line, never a traceback
        return CheckResult(name, False, one_line(exc))


def exit_code(results: list[CheckResult]) -> int:
    if all(result.ok for result in results):
        return EXIT_OK
    broker_down = any(result.name == "broker" and not result.ok for result in results)
    return EXIT_BROKER_UNAVAILABLE if broker_down else EXIT_FAILED


def one_line(exc: BaseException) -> str:
    text = " ".join((str(exc) or type(exc).__name__).split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


def check_broker(settings: Settings, timeout_s: float) -> str:
    from stream.broker import connect

    client = settings.kafka.client_config()
    _admin, metadata = connect(client, timeout_s)
    listings = settings.topics.listings
    present = "present" if listings in metadata.topics else "absent: the worker creates it"
    return f"{client['bootstrap.servers']}: {len(metadata.topics)} topics, {listings} {present}"


def check_milvus(settings: Settings, timeout_s: float, found_version: list[str | None]) -> str:
    """The server (or Lite file) answers and lists collections; the configured one's model version is kept."""
    from pathlib import Path

    from infra.milvus.errors import masked_uri
    from infra.milvus.store import is_lite_uri

    milvus = settings.milvus
    shown = masked_uri(milvus.uri)
    if is_lite_uri(milvus.uri) and not Path(milvus.uri).expanduser().exists():
        found_version.append(None)
        return f"Milvus Lite file {shown} not created yet: the worker creates it"
    from pymilvus import MilvusClient

    from infra.milvus.aliases import resolve
    from infra.milvus.schema import MODEL_VERSION_PROPERTY

    token = milvus.token.get_secret_value() if milvus.token else ""
    client = MilvusClient(uri=milvus.uri, token=token, timeout=timeout_s, dedicated=True)
    try:
        names = client.list_collections(timeout=timeout_s)
        target = resolve(client, milvus.collection, timeout_s)
        if target is None:
            found_version.append(None)
            return f"{shown}: {len(names)} collections, {milvus.collection} absent: the worker creates it"
        properties = client.describe_collection(target, timeout=timeout_s).get("properties") or {}
        found_version.append(properties.get(MODEL_VERSION_PROPERTY) or "")
        via = f" -> {target}" if target != milvus.collection else ""
        return f"{shown}: {len(names)} collections, {milvus.collection}{via} present"
    finally:
        client.close()


def check_redis(settings: Settings, timeout_s: float) -> str:
    redis_settings = settings.redis
    if not redis_settings.enabled:
        return "cache off (DEDUP_REDIS_ENABLED=false)"
    import redis

    client = redis.Redis.from_url(
        redis_settings.url.get_secret_value(), socket_timeout=timeout_s, socket_connect_timeout=timeout_s
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        # redis-py's message names host and port, never the password.
        raise RuntimeError(f"no answer to PING: {exc}") from None
    finally:
        client.close()
    return "PING answered"


def check_model(settings: Settings, collection_version: str | None) -> str:
    """Loads the model folder as the worker does (versions of encoder, reducer, decider and image encoder
    checked against each other), and compares it with the version the collection was built with."""
    from infra.milvus.collection_checks import check_model_version
    from infra.milvus.schema import MODEL_VERSION_PROPERTY
    from stream.worker.runtime import load_model

    model = load_model(_without_compile(settings))
    if collection_version is not None:
        properties = {MODEL_VERSION_PROPERTY: collection_version}
        check_model_version(properties, model.embedding_version, settings.milvus.collection)
    holds = "; the collection holds it" if collection_version is not None else ""
    decider = model.decider
    return (
        f"{settings.model.model_dir}: decider {decider.name} {decider.version},"
        f" embedding {model.embedding_version}{holds}"
    )


def _without_compile(settings: Settings) -> Any:
    """torch.compile costs minutes and checks nothing a load does not."""
    if settings.encoder.compile_model:
        settings.encoder = settings.encoder.model_copy(update={"compile_model": False})
    return settings
