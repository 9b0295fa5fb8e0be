"""The listing store's searches: dense vectors, photos and BM25, each kept to listings stored before
its query where asked (see :mod:`infra.milvus.earlier`).

A mixin of :class:`infra.milvus.store.ListingStore`: it uses the store's client, error handling and
the open collection's layout, so the store file keeps the connection and collection set-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np

from infra.milvus.chunking import SEARCH_CHUNK_QUERIES, chunks
from infra.milvus.earlier import OrderKey, search_earlier
from infra.milvus.records import Neighbour
from infra.milvus.schema import (
    IMAGE_FIELD,
    LEXICAL_FIELD,
    LEXICAL_METRIC,
    MATCH_GROUP_FIELD,
    METRIC,
    SEARCH_HIT_FIELDS,
    TEXT_FIELD,
    ImageLayout,
    IndexProfile,
    lexical_text,
    neighbour_from_hit,
    neighbour_from_text_hit,
)

if TYPE_CHECKING:
    from pymilvus import MilvusClient


class SearchCalls:
    """Searches of the open collection; ``ListingStore`` provides the attributes and methods declared here."""

    collection: str
    dim: int
    index_type: str
    lexical: bool
    groups: bool
    _timeout: float
    _profiles: dict[str, IndexProfile]
    _search_index_type: str | None

    if TYPE_CHECKING:

        def _read_level(self) -> str: ...
        def _client_or_raise(self) -> MilvusClient: ...
        def _layout_or_raise(self) -> ImageLayout: ...
        def _milvus_errors(self, action: str) -> AbstractContextManager[None]: ...

    # ``earlier_than`` (one (first_seen_ms, listing_id) key per query) keeps each query's hits to listings
    # stored before it, inside the search (see infra.milvus.earlier): later ones never crowd them out.

    def search(
        self, vectors: np.ndarray, limit: int, earlier_than: Sequence[OrderKey] | None = None
    ) -> list[list[Neighbour]]:
        """The ``limit`` most similar stored listings for each query row, most similar first."""
        queries = self._as_matrix(vectors, "search vectors")
        if limit < 1:
            raise ValueError(f"limit must be positive, got {limit}")
        search_params = {"metric_type": METRIC, "params": self._search_params(limit)}
        return self._search_earlier(
            "search", queries, TEXT_FIELD, limit, search_params, neighbour_from_hit, earlier_than=earlier_than
        )

    def search_images(
        self, vectors: np.ndarray, limit: int, earlier_than: Sequence[OrderKey] | None = None
    ) -> list[list[Neighbour]]:
        """The ``limit`` stored listings with the most similar photos; empty lists where the collection has
        photos only as an array field (Milvus < 2.4 allows one vector field), which cannot be searched."""
        queries = self._as_matrix(vectors, "image search vectors")
        if limit < 1 or self._layout_or_raise() is not ImageLayout.VECTOR:
            return [[] for _ in range(len(queries))]
        search_params = {"metric_type": METRIC, "params": {}}
        return self._search_earlier(
            "search_images", queries, IMAGE_FIELD, limit, search_params, neighbour_from_hit,
            only="has_image == true", earlier_than=earlier_than,
        )

    def search_text(
        self, texts: Sequence[str], limit: int, earlier_than: Sequence[OrderKey] | None = None
    ) -> list[list[Neighbour]]:
        """The ``limit`` best BM25 matches of each text, best first; empty lists without the lexical channel."""
        if not self.lexical or limit < 1:
            return [[] for _ in texts]
        queries = [lexical_text(text) for text in texts]
        params = {"metric_type": LEXICAL_METRIC}
        return self._search_earlier(
            "search_text", queries, LEXICAL_FIELD, limit, params, neighbour_from_text_hit, earlier_than=earlier_than
        )

    def _search_earlier(
        self,
        action: str,
        queries: Sequence[Any] | np.ndarray,
        field: str,
        limit: int,
        search_params: Mapping[str, Any],
        to_neighbour: Callable[[Any], Neighbour],
        only: str = "",
        earlier_than: Sequence[OrderKey] | None = None,
    ) -> list[list[Neighbour]]:
        def run(chunk: Sequence[Any] | np.ndarray, k: int, expression: str) -> list[list[Neighbour]]:
            return self._search(action, chunk, field, k, search_params, to_neighbour, expression)

        if earlier_than is None:
            return run(queries, limit, only)
        return search_earlier(run, queries, limit, only, earlier_than)

    def _search(
        self,
        action: str,
        queries: Sequence[Any] | np.ndarray,
        field: str,
        limit: int,
        search_params: Mapping[str, Any],
        to_neighbour: Callable[[Any], Neighbour],
        only: str = "",
    ) -> list[list[Neighbour]]:
        """One search call per chunk of queries against ``field``; each hit read by ``to_neighbour``.

        ``only`` is a filter expression built from constants, integers we produced and escaped literals."""
        neighbours: list[list[Neighbour]] = []
        with self._milvus_errors(action):
            for chunk in chunks(queries, SEARCH_CHUNK_QUERIES):
                hits = self._client_or_raise().search(
                    self.collection,
                    data=chunk,
                    anns_field=field,
                    filter=only,
                    limit=limit,
                    search_params=dict(search_params),
                    output_fields=self._hit_fields(),
                    consistency_level=self._read_level(),
                    timeout=self._timeout,
                )
                neighbours.extend([to_neighbour(hit) for hit in query_hits] for query_hits in hits)
        return neighbours

    def _hit_fields(self) -> list[str]:
        return [*SEARCH_HIT_FIELDS, MATCH_GROUP_FIELD] if self.groups else SEARCH_HIT_FIELDS

    def _search_params(self, limit: int) -> dict[str, int]:
        profile = self._profiles.get(self._search_index_type or self.index_type)
        return profile.search_params(limit) if profile else {}

    def _as_matrix(self, vectors: np.ndarray, name: str) -> np.ndarray:
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            raise ValueError(f"{name} have shape {matrix.shape}, expected (n, {self.dim})")
        return matrix
