"""The reindex's one-line errors, importable without the model or pymilvus (``dedup`` names them)."""


class ReindexError(ValueError):
    """A reindex that cannot be done as asked; one line for the operator."""
