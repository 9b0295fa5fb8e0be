"""The listing store's calls for updates and deletes (see :mod:`infra.milvus.lifecycle` for what is stored).

A mixin of :class:`infra.milvus.store.ListingStore`: it uses the store's client and error handling.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from infra.milvus.chunking import FETCH_CHUNK_IDS, MEMBER_QUERY_LIMIT, UPSERT_CHUNK_ROWS, chunks
from infra.milvus.lifecycle import (
    StoredState,
    ids_filter,
    naming_filter,
    state_fields,
    state_from_row,
    unique_rows,
    writable_fields,
)

if TYPE_CHECKING:
    from pymilvus import MilvusClient

    from infra.milvus.schema import ImageLayout


class LifecycleCalls:
    """Reads and writes for updates and deletes; ``ListingStore`` provides what is declared here."""

    collection: str
    lexical: bool
    groups: bool
    reported: bool
    _timeout: float
    _wrote: bool

    if TYPE_CHECKING:

        def _read_level(self) -> str: ...

        def _client_or_raise(self) -> MilvusClient: ...
        def _layout_or_raise(self) -> ImageLayout: ...
        def _milvus_errors(self, action: str) -> AbstractContextManager[None]: ...

    def stored_states(self, ids: Sequence[str]) -> dict[str, StoredState]:
        """First stored time and what each stored listing's own event reported; new listings are absent."""
        found: dict[str, StoredState] = {}
        fields = state_fields(self.reported)
        for chunk in chunks(list(dict.fromkeys(ids)), FETCH_CHUNK_IDS):
            found.update(state_from_row(row) for row in self._query("stored_states", ids_filter(chunk), fields))
        return found

    def rows_naming(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """The whole rows (to rewrite) whose own event named any of ``ids``; none without reported matches."""
        if not self.reported:
            return []
        fields = writable_fields(lexical=self.lexical, groups=self.groups)
        id_chunks = chunks(list(dict.fromkeys(ids)), FETCH_CHUNK_IDS)
        rows = (row for chunk in id_chunks for row in self._query("rows_naming", naming_filter(chunk), fields))
        return unique_rows(rows)

    def rewrite_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Upserts rows read by :meth:`rows_naming` and changed."""
        self._layout_or_raise()
        with self._milvus_errors("rewrite_rows"):
            for chunk in chunks(rows, UPSERT_CHUNK_ROWS):
                self._client_or_raise().upsert(self.collection, list(chunk), timeout=self._timeout)
                self._wrote = True

    def delete(self, ids: Sequence[str]) -> None:
        """Removes the listings: never found by a search again. Unknown ids are ignored."""
        self._layout_or_raise()
        with self._milvus_errors("delete"):
            for chunk in chunks(list(dict.fromkeys(ids)), FETCH_CHUNK_IDS):
                self._client_or_raise().delete(self.collection, filter=ids_filter(chunk), timeout=self._timeout)
        # Seen in CI on the 2.3.5 server: a Session read right after a delete by filter still returned the
        # deleted row. Reads are Strong until this client's next upsert, whose timestamp follows the delete.
        self._wrote = False

    def _query(self, action: str, expression: str, fields: list[str]) -> list[dict[str, Any]]:
        self._layout_or_raise()
        with self._milvus_errors(action):
            rows = self._client_or_raise().query(
                self.collection,
                filter=expression,
                output_fields=fields,
                limit=MEMBER_QUERY_LIMIT,
                consistency_level=self._read_level(),
                timeout=self._timeout,
            )
        return [dict(row) for row in rows]
