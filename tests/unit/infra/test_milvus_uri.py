"""A Milvus URI's password never reaches a message."""

from __future__ import annotations

import pytest

from infra.milvus.errors import StoreError, StoreUnavailable, masked_uri
from infra.milvus.store import ListingStore


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("http://root:secret@milvus:19530", "http://root:***@milvus:19530"),
        ("https://user:p%40ss@host", "https://user:***@host"),
        ("http://milvus:19530", "http://milvus:19530"),
        (".dedup/milvus.db", ".dedup/milvus.db"),
    ],
)
def test_passwords_are_masked(uri: str, shown: str) -> None:
    assert masked_uri(uri) == shown


def test_a_failed_connection_names_the_server_without_its_password() -> None:
    with pytest.raises((StoreError, StoreUnavailable)) as caught:  # the store connects when it is made
        ListingStore("http://root:secret@127.0.0.1:9", "c", model_version="m", dim=4, request_timeout_s=1.0)
    assert "root:***@127.0.0.1:9" in str(caught.value) and "secret" not in str(caught.value)
