import subprocess
import sys

import pytest

from decider.training.config import TrainConfig
from infra.milvus.schema import IvfTuning
from stream.commands.cli import build_parser, main
from stream.commands.flags import parsed
from stream.commands.options import GenerateOptions, settings_from
from stream.settings import (
    KafkaSettings,
    MilvusSettings,
    RedisSettings,
    Settings,
    SettingsError,
    WorkerSettings,
    build,
)
from tests.paths import REPO_ROOT

HEAVY_MODULES = ("torch", "transformers", "sklearn", "pymilvus", "timm", "scipy", "matplotlib")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "--max-events", "zero"], "--max-events: not a number"),
        (["run", "--max-events", "-3"], "must be a positive integer"),
        (["run", "--until-idle", "0"], "must be a positive number"),
        (["replay"], "one of the arguments --from-timestamp --from-offsets is required"),
        (["stack", "sideways"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        (["run", "--device", "tpu"], "invalid choice"),
    ],
)
def test_bad_arguments_get_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, err = run_cli(capsys, *argv)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1


def test_bad_environment_value_fails_at_start_up_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEDUP_WORKER_BATCH_MAX_SIZE", "lots")
    code, err = run_cli(capsys, "run", "--max-events", "1")
    assert code == 1
    assert err.strip() == (
        "dedup: error: invalid setting DEDUP_WORKER_BATCH_MAX_SIZE='lots': "
        "Input should be a valid integer, unable to parse string as an integer"
    )


def test_bad_replay_offsets_get_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(capsys, "replay", "--from-offsets", "0=12", "--bootstrap-servers", "127.0.0.1:1")
    assert code == 1
    assert "bad partition offset '0=12'" in err and len(err.strip().splitlines()) == 1


def test_publish_of_a_missing_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    code, err = run_cli(capsys, "publish", str(tmp_path / "nope.jsonl"))
    assert code == 1
    assert "no such file" in err and len(err.strip().splitlines()) == 1


def test_flags_override_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_KAFKA_BOOTSTRAP_SERVERS", "env:9092")
    monkeypatch.setenv("DEDUP_KAFKA_GROUP_ID", "from-env")
    settings = Settings(kafka={"bootstrap_servers": "flag:9092", "group_id": None})
    assert settings.kafka.bootstrap_servers == "flag:9092"
    assert settings.kafka.group_id == "from-env"


def test_librdkafka_options_and_secrets_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("DEDUP_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("DEDUP_KAFKA_SASL_USERNAME", "svc")
    monkeypatch.setenv("DEDUP_KAFKA_SASL_PASSWORD", "hunter2")
    monkeypatch.setenv("DEDUP_KAFKA_OPTIONS", '{"fetch.max.bytes": 1048576, "client.id": "dedup-7"}')
    kafka = KafkaSettings()
    config = kafka.client_config()
    assert config["sasl.password"] == "hunter2" and config["security.protocol"] == "SASL_SSL"
    assert config["fetch.max.bytes"] == 1048576 and config["client.id"] == "dedup-7"
    assert "hunter2" not in repr(kafka) and "hunter2" not in str(kafka.model_dump())


def test_a_setting_that_is_not_json_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_KAFKA_OPTIONS", "not json")
    with pytest.raises(SettingsError) as caught:
        build(KafkaSettings)
    assert str(caught.value).startswith("invalid setting DEDUP_KAFKA_OPTIONS: not valid JSON")
    assert "\n" not in str(caught.value)


def test_an_empty_group_id_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_KAFKA_GROUP_ID", "")
    with pytest.raises(SettingsError) as caught:
        build(KafkaSettings)
    assert str(caught.value).startswith("invalid setting DEDUP_KAFKA_GROUP_ID=''")


def test_a_malformed_redis_url_is_one_line_without_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_REDIS_URL", "nope://user:secret@host")
    with pytest.raises(SettingsError) as caught:
        build(RedisSettings)
    assert str(caught.value).startswith("invalid setting DEDUP_REDIS_URL=***: Value error, a Redis URL starts with")
    assert "secret" not in str(caught.value)


def test_cross_field_settings_are_validated() -> None:
    with pytest.raises(SettingsError) as caught:
        build(WorkerSettings, {"retry_backoff_s": 10, "retry_max_backoff_s": 1})
    assert "retry_max_backoff_s must be >= retry_backoff_s" in str(caught.value)


def test_ivf_probes_cannot_exceed_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_MILVUS_IVF_NLIST", "16")
    with pytest.raises(SettingsError, match="ivf_nprobe must be <= ivf_nlist"):
        build(MilvusSettings, {"ivf_nprobe": 32})


def test_ivf_settings_become_the_stores_tuning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_MILVUS_IVF_NLIST", "1024")
    monkeypatch.setenv("DEDUP_MILVUS_IVF_NPROBE", "64")
    assert build(MilvusSettings).ivf_tuning() == IvfTuning(nlist=1024, nprobe=64)


def test_the_parser_starts_without_the_heavy_libraries() -> None:
    """`dedup --help` and a bad flag answer at once: only the command that runs imports what it needs."""
    script = (
        "import sys, tempfile; from stream.commands.cli import main; "
        "main(['stack', 'status', '--state-dir', tempfile.mkdtemp()]); "
        f"print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    assert loaded.stdout.strip().splitlines()[-1] == "[]", loaded.stdout
    usage = subprocess.run([sys.executable, "-m", "stream.commands.cli", "--help"], capture_output=True, text=True, cwd=REPO_ROOT)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: dedup")


def test_train_flags_come_from_train_config() -> None:
    parser = build_parser()
    assert parsed(TrainConfig, parser.parse_args(["train", "--data", "d", "--out", "o"])) == TrainConfig()
    args = parser.parse_args(["train", "--data", "d", "--out", "o", "--no-known-products", "--finetune", "--epochs", "2"])
    assert parsed(TrainConfig, args) == TrainConfig(known_products=False, finetune=True, epochs=2)
    forced = parser.parse_args(["train", "--data", "d", "--out", "o", "--known-products"])
    assert parsed(TrainConfig, forced).known_products is True and TrainConfig().known_products is None


def test_option_defaults_come_from_the_option_models() -> None:
    args = build_parser().parse_args(["generate", "--out", "x"])
    assert parsed(GenerateOptions, args) == GenerateOptions(out="x")


def test_service_flags_land_in_their_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_TOPIC_LISTINGS", "from-env")
    args = build_parser().parse_args(["run", "--group", "g", "--batch-size", "5", "--model", "m", "--metrics-port", "9100"])
    settings = settings_from(args)
    assert settings.kafka.group_id == "g" and settings.worker.batch_max_size == 5 and settings.worker.metrics_port == 9100
    assert str(settings.model.model_dir) == "m" and settings.topics.listings == "from-env"


def test_service_flags_name_their_environment_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "consumer group [DEDUP_KAFKA_GROUP_ID]" in help_text
    assert "[DEDUP_WORKER_BATCH_MAX_SIZE]" in help_text and "[DEDUP_MODEL_DIR]" in help_text


def test_a_flag_above_a_settings_bound_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(capsys, "run", "--batch-size", "20000")
    assert code == 1
    assert err.startswith("dedup: error: invalid setting DEDUP_WORKER_BATCH_MAX_SIZE=20000") and err.count("\n") == 1
