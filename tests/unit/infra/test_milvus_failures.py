"""Which Milvus failures the worker retries (rewind and try again) and which stop it with one line."""

from pathlib import Path

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


def test_a_connection_closed_for_too_many_pings_is_opened_again(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """gRPC shares a connection the server closed with GOAWAY "too_many_pings": the next connect fails once."""
    import infra.milvus.store as store_module

    attempts: list[str] = []

    class FlakyClient:
        def __init__(self, **_kwargs: object) -> None:
            attempts.append("connect")
            if len(attempts) == 1:
                try:
                    raise RuntimeError('<_InactiveRpcError: status = UNAVAILABLE, details = "Too many pings">')
                except RuntimeError as goaway:
                    raise MilvusException(code=2, message="Fail connecting to server") from goaway

        def close(self) -> None:
            pass

    monkeypatch.setattr(store_module, "MilvusClient", FlakyClient)
    store = store_module.ListingStore(str(tmp_path / "m.db"), "listings", model_version="m")
    assert isinstance(store.milvus_client(), FlakyClient) and len(attempts) == 2


def test_other_connect_failures_are_not_retried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import infra.milvus.store as store_module

    attempts: list[str] = []

    def refused(**_kwargs: object) -> None:
        attempts.append("connect")
        raise MilvusException(code=2, message="Fail connecting to server on 127.0.0.1:1")

    monkeypatch.setattr(store_module, "MilvusClient", refused)
    with pytest.raises(StoreUnavailable, match="retry later"):
        store_module.ListingStore(str(tmp_path / "m.db"), "listings", model_version="m")
    assert len(attempts) == 1


def test_an_exception_chain_that_loops_ends_the_search_for_a_goaway() -> None:
    """pymilvus raises `e from e`; walking __cause__ must not spin forever."""
    from infra.milvus.store import _closed_for_pinging

    error = MilvusException(code=2, message="Fail connecting to server")
    error.__cause__ = error
    assert _closed_for_pinging(error) is False
