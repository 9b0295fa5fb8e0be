"""Session-wide real services for the integration tests.

``--services=local`` (default, or ``DEDUP_TEST_SERVICES=local``) starts a tansu broker and a
redis-server on free ports and uses a Milvus Lite file; ``--services=containers`` uses Docker via
testcontainers and skips the tests that need services when Docker is absent.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from tests import services

if TYPE_CHECKING:
    from pathlib import Path

    from decider.bundle import ModelBundle
    from encoders.text import TextEncoder
    from stream.settings import Settings

# Tokenizer worker threads would be forked along with the test process; keep them off.
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        services.SERVICES_OPTION,
        choices=services.SERVICE_MODES,
        default=None,
        help=f"where the integration services run (default: ${services.SERVICES_ENV} or local)",
    )


def pytest_configure(config: pytest.Config) -> None:
    _selected_mode(config)  # a bad DEDUP_TEST_SERVICES fails the run up front, not per test


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("containers") and (reason := services.docker_unavailable_reason()):
        pytest.skip(reason)


def _selected_mode(config: pytest.Config) -> str:
    mode = config.getoption(services.SERVICES_OPTION) or os.environ.get(services.SERVICES_ENV, services.LOCAL)
    if mode not in services.SERVICE_MODES:
        raise pytest.UsageError(f"{services.SERVICES_ENV}={mode!r}: expected one of {services.SERVICE_MODES}")
    return mode


@pytest.fixture(scope="session")
def service_mode(pytestconfig: pytest.Config) -> str:
    mode = _selected_mode(pytestconfig)
    if mode == services.CONTAINERS and (reason := services.docker_unavailable_reason()):
        pytest.skip(reason)
    return mode


@pytest.fixture(scope="session")
def kafka_bootstrap(service_mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with services.kafka_service(service_mode, tmp_path_factory.mktemp("kafka")) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def redis_url(service_mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with services.redis_service(service_mode, tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(scope="session")
def milvus_uri(service_mode: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with services.milvus_service(service_mode, tmp_path_factory.mktemp("milvus")) as uri:
        yield uri


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """``unique_name("topic")`` -> ``topic_1f2e3d4c5b6a``; fresh on every call."""
    return services.unique_name


# --- pipeline fixtures ---


@pytest.fixture(scope="session")
def packaged_encoder() -> "TextEncoder":
    """The packaged all-MiniLM-L6-v2 on CPU, loaded once for every test that only reads it."""
    from encoders.text import TextEncoder

    return TextEncoder(device="cpu")


@pytest.fixture(scope="session")
def baseline_model(tmp_path_factory: pytest.TempPathFactory, packaged_encoder: "TextEncoder") -> "ModelBundle":
    """The packaged MiniLM + a reducer and threshold decider fitted on a generated catalog."""
    from decider.synthetic.generator import generate_catalog
    from decider.training.quick_models import fit_baseline_bundle

    calibration = generate_catalog(n_products=300, seed=101)
    model = fit_baseline_bundle(
        packaged_encoder,
        {listing["listing_id"]: listing for listing in calibration.listings},
        calibration.pairs(),
        clusters=calibration.truth,
    )
    model.save(tmp_path_factory.mktemp("model"))
    return model


@pytest.fixture
def pipeline_settings(
    kafka_bootstrap: str, redis_url: str, milvus_uri: str, unique_name: Callable[[str], str], baseline_model: "ModelBundle"
) -> "Settings":
    """Settings for one test: its own topics, consumer group and Milvus collection."""
    from stream.settings import Settings

    name = unique_name("t")
    return Settings(
        kafka={"bootstrap_servers": kafka_bootstrap, "group_id": f"{name}_group", "session_timeout_ms": 6_000},
        topics={
            "listings": f"{name}-created",
            "duplicates": f"{name}-duplicates",
            "dlq": f"{name}-dlq",
            "partitions": 3,
        },
        milvus={"uri": milvus_uri, "collection": name},
        redis={"url": redis_url},
        encoder={"device": "cpu"},
        model={"model_dir": baseline_model.directory},
        # Pipelined although Milvus is Lite (auto would turn it off): the tests run the path servers take.
        worker={
            "batch_max_size": 64, "batch_timeout_s": 0.5, "summary_interval_s": 1.0, "retry_backoff_s": 0.2,
            "pipelined": "on",
        },
    )


@pytest.fixture(scope="session")
def make_labeled_set(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int, int], "Path"]:
    """A generated catalog in the shared data layout; its valid pairs double as the test split."""
    from decider.synthetic.generator import generate_catalog

    @functools.cache  # the same set for every module that asks for it
    def make(n_products: int, seed: int) -> "Path":
        root = tmp_path_factory.mktemp("labeled") / "generated"
        generate_catalog(n_products=n_products, seed=seed).write(root)
        (root / "pairs" / "test.csv").write_bytes((root / "pairs" / "valid.csv").read_bytes())
        return root

    return make
