"""Errors of the listing store, importable without pymilvus."""


class StoreError(RuntimeError):
    """The store failed in a way that retrying the same call will not fix."""


class StoreUnavailable(StoreError):
    """Milvus is unreachable, timing out or busy: retry later."""


class StoreVersionMismatch(StoreError):
    """The collection holds vectors from another embedding model."""


def masked_uri(uri: str) -> str:
    """The URI as errors and logs may show it: a password (``http://root:secret@host``) becomes ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparsable Milvus URI>"
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
