"""The faust app's wiring, without a broker: topics, table, pages; the source position through headers."""

from __future__ import annotations

from types import SimpleNamespace

from stream.clusters.app import _position_headers, _source, build_app
from stream.settings import Settings


def test_the_app_reads_duplicates_through_one_partition_into_a_one_partition_table() -> None:
    settings = Settings(clusters={"app_id": "unit-clusters", "web_port": 16_099}, topics={"duplicates": "d.topic"})
    app = build_app(settings, tansu=True)
    topics = {topic for agent in app.agents.values() for topic in agent.channel.topics}
    assert topics == {"d.topic", "unit-clusters-links"}
    links = next(agent.channel for agent in app.agents.values() if "unit-clusters-links" in agent.channel.topics)
    assert (links.partitions, app.tables["clusters"].partitions) == (1, 1)
    assert app.conf.producer_max_batch_size == 1 and app.conf.web_port == 16_099
    assert {"/healthz", "/metrics"} <= set(app.web.views)


def test_the_source_position_travels_in_the_headers() -> None:
    message = SimpleNamespace(topic="listings.duplicates", partition=2, offset=41)
    position = _source(_position_headers(message))
    assert (position.topic, position.partition, position.offset) == ("listings.duplicates", 2, 41)
