"""Errors of the listing store, importable without pymilvus."""


class StoreError(RuntimeError):
    """The store failed in a way that retrying the same call will not fix."""


class StoreUnavailable(StoreError):
    """Milvus is unreachable, timing out or busy: retry later."""


class StoreVersionMismatch(StoreError):
    """The collection holds vectors from another embedding model."""
