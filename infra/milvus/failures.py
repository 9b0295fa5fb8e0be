"""Which pymilvus / gRPC failures are worth retrying, and their one-line messages."""

from __future__ import annotations

import grpc
from pymilvus.client.types import Status
from pymilvus.exceptions import ErrorCode, MilvusException, MilvusUnavailableException

from infra.milvus.errors import StoreError, StoreUnavailable

# Milvus answers these when it is down, overloaded or throttling: worth retrying later.
_RETRYABLE_GRPC_CODES = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED}
)
# A restarted server answers "collection not loaded" (merr code 101) for 10-20 s while it reloads the
# collections it had loaded: the fault suite saw a worker exit on it instead of retrying.
COLLECTION_NOT_LOADED = 101
_RETRYABLE_MILVUS_CODES = frozenset(
    {Status.CONNECT_FAILED, ErrorCode.RATE_LIMIT, ErrorCode.FORCE_DENY, COLLECTION_NOT_LOADED}
)
FAILURES = (MilvusException, grpc.RpcError)


def translate(where: str, exc: MilvusException | grpc.RpcError, *, hint: str = "") -> StoreError:
    """StoreUnavailable (retry later) or StoreError, with the server's message on one line."""
    message = " ".join(_error_message(exc).split())  # one line, whatever the server sent
    if is_retryable(exc):
        return StoreUnavailable(f"{where} failed, retry later: {message}")
    return StoreError(f"{where} failed: {message}{hint}")


def is_retryable(exc: MilvusException | grpc.RpcError) -> bool:
    if isinstance(exc, grpc.RpcError):
        return exc.code() in _RETRYABLE_GRPC_CODES
    if isinstance(exc, MilvusUnavailableException) or getattr(exc, "retriable", False):
        return True
    # pymilvus reports "retries exhausted" with the gRPC status code as the error code.
    code = exc.code
    return code in _RETRYABLE_GRPC_CODES if isinstance(code, grpc.StatusCode) else code in _RETRYABLE_MILVUS_CODES


def _error_message(exc: MilvusException | grpc.RpcError) -> str:
    if isinstance(exc, MilvusException):
        return str(exc.message or exc)
    details = exc.details() if hasattr(exc, "details") else None
    return f"{exc.code().name}: {details or exc}"
