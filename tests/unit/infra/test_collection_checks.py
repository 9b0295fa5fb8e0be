"""infra.milvus.collection_checks: an existing collection keeps its index, and the operator hears when it differs."""

from __future__ import annotations

import logging

import pytest

from infra.milvus.collection_checks import existing_index_type
from infra.milvus.schema import IvfTuning, index_profiles

PROFILES = index_profiles(128, IvfTuning(nlist=1024, nprobe=64))


def warnings_for(index: dict[str, str], requested: str, caplog: pytest.LogCaptureFixture) -> tuple[str, list[str]]:
    with caplog.at_level(logging.WARNING, logger="infra.milvus.collection_checks"):
        kept = existing_index_type(index, requested, PROFILES, "listings__abc")
    return kept, [record.getMessage() for record in caplog.records]


def test_a_server_index_built_with_other_lists_is_kept_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    kept, messages = warnings_for({"index_type": "IVF_SQ8", "nlist": "128"}, "IVF_SQ8", caplog)
    assert kept == "IVF_SQ8"
    assert messages == [
        "collection 'listings__abc' was indexed with nlist 128; DEDUP_MILVUS_IVF_NLIST=1024 applies to new indexes only"
    ]


@pytest.mark.parametrize(
    "index",
    [
        {"index_type": "IVF_SQ8", "nlist": "1024"},  # as asked
        {"index_type": "IVF_SQ8"},  # Milvus Lite reports no build parameters
        {"index_type": "HNSW", "M": "16"},  # no lists to compare
    ],
)
def test_no_warning_where_nothing_differs_or_nothing_is_reported(
    index: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    kept, messages = warnings_for(index, index["index_type"], caplog)
    assert kept == index["index_type"] and messages == []


def test_another_index_type_is_kept_and_named(caplog: pytest.LogCaptureFixture) -> None:
    kept, messages = warnings_for({"index_type": "scann", "nlist": "64"}, "IVF_SQ8", caplog)
    assert kept == "SCANN"  # unknown to the profiles: kept, and its lists are not judged
    assert messages == [
        "collection 'listings__abc' already has index type SCANN; ignoring the requested IVF_SQ8"
        " (drop the collection to rebuild)"
    ]
