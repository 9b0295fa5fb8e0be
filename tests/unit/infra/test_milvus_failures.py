"""Which Milvus failures the worker retries (rewind and try again) and which stop it with one line."""

import pytest
from pymilvus.exceptions import MilvusException

from infra.milvus.errors import StoreUnavailable
from infra.milvus.failures import COLLECTION_NOT_LOADED, is_retryable, translate


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        (COLLECTION_NOT_LOADED, True),  # a restarted server still reloading its collections
        (8, True),  # rate limited
        (100, False),  # collection not found: waiting does not bring it back
        (1, False),
    ],
)
def test_retryable_milvus_codes(code: int, retryable: bool) -> None:
    assert is_retryable(MilvusException(code=code, message="collection not loaded[collection=1]")) is retryable


def test_a_collection_still_loading_after_a_restart_is_unavailable_not_an_error() -> None:
    error = translate("Milvus search on 'listings'", MilvusException(code=COLLECTION_NOT_LOADED, message="not\nloaded"))
    assert isinstance(error, StoreUnavailable)
    assert str(error) == "Milvus search on 'listings' failed, retry later: not loaded"
