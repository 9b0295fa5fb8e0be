"""`dedup check` against the real services (every line ok, exit 0) and against closed ports (one line each)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from decider.bundle import ModelBundle
from infra.stack.services import free_port
from stream.commands.check import CheckOptions, cmd_check
from stream.commands.exit_codes import EXIT_BROKER_UNAVAILABLE, EXIT_FAILED, EXIT_OK
from stream.settings import Settings
from stream.worker.runtime import open_runtime
from tests.streaming import worker_env

pytestmark = pytest.mark.integration
DEDUP = [sys.executable, "-m", "stream.commands.cli"]


def test_every_dependency_answers(
    pipeline_settings: Settings, baseline_model: ModelBundle, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_runtime(pipeline_settings, baseline_model):  # creates the topics and the collection, as a worker does
        pass
    capsys.readouterr()

    code = cmd_check(CheckOptions(timeout=10), pipeline_settings)

    lines = capsys.readouterr().out.splitlines()
    assert code == EXIT_OK, lines
    assert [line.split(":")[0] for line in lines] == ["broker", "milvus", "redis", "model"]
    assert all(": ok (" in line for line in lines), lines
    assert f"{pipeline_settings.topics.listings} present" in lines[0]
    assert f"{pipeline_settings.milvus.collection} -> " in lines[1] and "present" in lines[1]
    assert "the collection holds it" in lines[3] and baseline_model.embedding_version in lines[3]


def test_redis_down_alone_fails_with_exit_1(pipeline_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    closed = SecretStr(f"redis://127.0.0.1:{free_port()}/0")
    pipeline_settings.redis = pipeline_settings.redis.model_copy(update={"url": closed})
    code = cmd_check(CheckOptions(timeout=2), pipeline_settings)
    lines = capsys.readouterr().out.splitlines()
    assert code == EXIT_FAILED
    assert lines[2].startswith("redis: failed: no answer to PING: Error 111 connecting to 127.0.0.1:")
    assert lines[0].startswith("broker: ok") and lines[3].startswith("model: ok")


def test_closed_ports_give_one_line_each_and_the_broker_exit_code(pipeline_settings: Settings, tmp_path: Path) -> None:
    closed = free_port()
    env = worker_env(
        pipeline_settings, tmp_path / "unused.db",
        DEDUP_KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{closed}", DEDUP_MILVUS_URI=f"http://127.0.0.1:{closed}",
        DEDUP_REDIS_URL=f"redis://127.0.0.1:{closed}/0", DEDUP_MODEL_DIR=str(tmp_path / "no-model"),
    )
    done = subprocess.run([*DEDUP, "check", "--timeout", "2"], env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == EXIT_BROKER_UNAVAILABLE, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4, lines
    assert lines[0] == (
        f"broker: failed: cannot reach the Kafka broker at 127.0.0.1:{closed} (connection refused) within 2 s;"
        " check DEDUP_KAFKA_BOOTSTRAP_SERVERS"
    )
    assert lines[1].startswith("milvus: failed: ") and f"127.0.0.1:{closed}" in lines[1]
    assert lines[2].startswith("redis: failed: no answer to PING")
    no_model = tmp_path / "no-model"
    assert lines[3] == f"model: failed: no model at {no_model} (model.json missing): run `dedup demo` or `dedup train`"
