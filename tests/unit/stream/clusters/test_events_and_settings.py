"""The cluster-updated schema, the parsing of duplicate events, the guard, the settings and faust's options."""

from __future__ import annotations

import jsonschema
import orjson
import pytest

from stream.clusters.events import SCHEMA_FILE, json_schema, parse_duplicate_event
from stream.clusters.faust_config import app_options, broker_urls, credentials, table_options
from stream.clusters.graph import ClusterGraph
from stream.clusters.guard import Guard
from stream.events import SCHEMA_DIR, InvalidEvent
from stream.settings import ClusterSettings, KafkaSettings, Settings, SettingsError, build

from .helpers import found, retracted_cause


def test_the_shipped_schema_matches_the_model() -> None:
    shipped = orjson.loads((SCHEMA_DIR / SCHEMA_FILE).read_bytes())
    assert shipped == json_schema(), "regenerate with `make schemas`"


def test_every_kind_of_update_matches_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    graph = ClusterGraph({}, Guard(free_size=2, base_score=0.0, max_size=6))
    events = found(graph, "b", "a") + found(graph, "y", "x", at_ms=2_000) + found(graph, "c", "x", at_ms=2_500)
    events += found(graph, "z", "b", "y", at_ms=3_000)
    events += found(graph, "q", "a", score=0.5, at_ms=4_000)  # a cluster of 7, past the cap: review
    events += graph.retracted(retracted_cause("b"), "e-b", ["a"])  # a, the cluster's id, leaves it
    assert {e.action for e in events} == {"created", "grown", "merged", "absorbed", "review", "dissolved"}
    for event in events:
        validator.validate(orjson.loads(orjson.dumps(event.model_dump(mode="json"))))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "tombstone"),
        (b"{not json", "not valid JSON"),
        (b'{"event_type": "listing-created"}', "neither duplicate-found nor duplicate-retracted"),
        (b'{"event_type": "duplicate-found", "listing_id": "a"}', "Field required"),
    ],
)
def test_events_that_cannot_be_applied_are_rejected_with_a_reason(value: bytes | None, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        parse_duplicate_event(value)


def test_a_duplicate_event_with_a_bad_detected_at_is_rejected() -> None:
    event = {"event_type": "duplicate-retracted", "event_id": "r", "retracts_event_id": "e", "listing_id": "a",
             "retracted_matches": ["b"], "reason": "deleted", "detected_at": "yesterday",
             "source": {"topic": "t", "partition": 0, "offset": 1}}  # fmt: skip
    with pytest.raises(InvalidEvent, match="detected_at"):
        parse_duplicate_event(orjson.dumps(event))


def test_the_required_score_rises_with_the_size() -> None:
    guard = Guard(free_size=8, base_score=0.9, max_size=100)
    assert guard.required_score(8) == 0.0
    assert guard.required_score(16) == pytest.approx(0.95)
    assert guard.required_score(80) == pytest.approx(0.99)
    assert not guard.judge(101, 1.0).accepted and guard.judge(100, 0.995).accepted


def test_cluster_settings_come_from_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_CLUSTERS_MAX_SIZE", "40")
    monkeypatch.setenv("DEDUP_TOPIC_CLUSTERS", "my.clusters")
    settings = Settings()
    assert (settings.clusters.max_size, settings.clusters.web_port) == (40, 6066)
    assert settings.topics.clusters == "my.clusters"
    with pytest.raises(SettingsError, match="DEDUP_CLUSTERS_FREE_SIZE"):
        build(ClusterSettings, {"free_size": 1})
    with pytest.raises(SettingsError, match="free_size must be <= max_size"):
        build(ClusterSettings, {"free_size": 50, "max_size": 10})


def test_faust_gets_the_brokers_credentials_and_one_record_batches_only_on_tansu() -> None:
    kafka = KafkaSettings(bootstrap_servers="k1:9092, k2:9092", session_timeout_ms=6_000)
    assert broker_urls(kafka) == ["kafka://k1:9092", "kafka://k2:9092"]
    options = app_options(kafka, ClusterSettings(), one_record_batches=True)
    assert (options["producer_max_batch_size"], options["broker_session_timeout"]) == (1, 6.0)
    assert "producer_max_batch_size" not in app_options(kafka, ClusterSettings())
    assert app_options(kafka, ClusterSettings())["store"] == "memory://"
    assert app_options(kafka, ClusterSettings(store="rocksdb"))["store"] == "rocksdb://"
    assert table_options(ClusterSettings()) is None
    bounded = table_options(ClusterSettings(store="rocksdb", rocksdb_cache_mb=64))
    assert bounded is not None and bounded["block_cache_size"] == 64 * 2**20
    sasl = KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="u",
                         sasl_password="p")  # fmt: skip
    given = credentials(sasl)
    assert (given.username, given.password, given.mechanism.value) == ("u", "p", "SCRAM-SHA-512")
    with pytest.raises(SettingsError, match="SASL_USERNAME"):
        credentials(KafkaSettings(security_protocol="SASL_PLAINTEXT"))
