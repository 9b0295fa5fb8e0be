"""The Grafana dashboard reads only metrics the code registers (worker, and the clusters app where it has one)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.metrics_core import Metric

from stream.worker.metrics import WorkerMetrics

ROOT = Path(__file__).resolve().parents[3]
DASHBOARD = ROOT / "infra" / "deploy" / "grafana" / "dashboards" / "listing-dedup.json"
CLUSTERS = ROOT / "stream" / "clusters"
# A series name in PromQL: an identifier not followed by "(" (a function) and not a label (followed by = or !=, ~).
OUR_NAME = re.compile(r"\b(dedup_[a-zA-Z0-9_]+)\b(?!\s*[(=!~])")
SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"), "gauge": ("",)}
ANY_SUFFIX = ("", "_total", "_created", "_bucket", "_sum", "_count", "_info")


def exprs(panels: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    for panel in panels:
        yield from exprs(panel.get("panels", []))
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def worker_series() -> set[str]:
    metrics = WorkerMetrics()
    metrics.watch_cache(_NoCache())
    families: list[Metric] = list(metrics.registry.collect())
    return {family.name + suffix for family in families for suffix in SUFFIXES.get(family.type, ANY_SUFFIX)}


class _NoCache:
    errors = 0

    def lookup_counts(self) -> dict[tuple[str, str], int]:
        return {}


def clusters_series() -> set[str]:
    """Names the clusters app declares (string literals ``dedup_clusters_*`` in stream/clusters/): by name only,
    since its metrics live in the faust app's process."""
    names: set[str] = set()
    for path in CLUSTERS.rglob("*.py") if CLUSTERS.is_dir() else []:
        for node in ast.walk(ast.parse(path.read_text())):
            value = node.value if isinstance(node, ast.Constant) else None
            if isinstance(value, str) and re.fullmatch(r"dedup_clusters_\w+", value):
                names.update(value + suffix for suffix in ANY_SUFFIX)
    return names


def test_every_metric_the_dashboard_reads_is_registered() -> None:
    known = worker_series() | clusters_series()
    used = {(title, name) for title, expr in exprs(dashboard()["panels"]) for name in OUR_NAME.findall(expr)}
    assert used, "the dashboard's expressions name no dedup_ metric: the parser is broken"
    unknown = sorted((title, name) for title, name in used if name not in known)
    assert not unknown, f"dashboard panels read metrics the code does not register: {unknown}"


def test_the_dashboard_shows_what_operators_asked_for() -> None:
    text = " ".join(expr for _title, expr in exprs(dashboard()["panels"]))
    for needle in (
        "dedup_events_total", "dedup_duplicates_found_total", 'outcome="dead_lettered"', "dedup_consumer_lag",
        "histogram_quantile(0.99, sum by (le) (rate(dedup_batch_seconds_bucket",
        "histogram_quantile(0.5, sum by (le) (rate(dedup_batch_seconds_bucket",
        "sum by (le, stage) (rate(dedup_stage_duration_seconds_bucket", 'dedup_cache_lookups_total{result="hit"}',
        'dedup_photos_total{outcome!="loaded"}', "dedup_batch_retries_total",
    ):
        assert needle in text, needle


def test_panels_use_the_datasource_variable_and_have_unique_ids() -> None:
    board = dashboard()
    panels = board["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    assert [variable["name"] for variable in board["templating"]["list"]] == ["datasource"]
    for panel in panels:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def test_the_name_parser_skips_functions_and_labels() -> None:
    expr = 'sum by (outcome) (rate(dedup_events_total{outcome="dead_lettered"}[5m])) / dedup_consumer_lag'
    assert OUR_NAME.findall(expr) == ["dedup_events_total", "dedup_consumer_lag"]
