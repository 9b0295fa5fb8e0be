"""The listing store: Milvus calls (connect, create, upsert, search, queries) and their error translation.

``uri`` is either a local path ending in ``.db`` (Milvus Lite, embedded in this process) or
``http(s)://host:port`` for a Milvus server. Every call is batched: a Milvus Lite round trip is
slow next to the work per row, so callers hand over whole batches and very large ones are chunked here.

The collection's fields, indexes and row encoding are in :mod:`infra.milvus.schema`. The embedding
model version is stored as a collection property; opening a collection built by another model
raises :class:`StoreVersionMismatch`, because vectors from two models are not comparable.

One class: every call to Milvus, each wrapped in the same error handling; the checks on what an existing
collection and the server offer are in :mod:`infra.milvus.collection_checks`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import grpc
import numpy as np
from pymilvus import DataType, MilvusClient
from pymilvus.exceptions import MilvusException

from infra.milvus.aliases import claim, drop_aliases, physical_name, resolve
from infra.milvus.chunking import (
    AFTER_OWN_WRITES,
    CONSISTENCY,
    FETCH_CHUNK_IDS,
    MEMBER_QUERY_LIMIT,
    UPSERT_CHUNK_ROWS,
    chunks,
)
from infra.milvus.collection_checks import (
    check_buildable_index,
    check_model_version,
    check_schema,
    existing_index_type,
    parse_server_version,
    warn_about_channels_off,
)
from infra.milvus.errors import StoreError, StoreUnavailable, masked_uri
from infra.milvus.failures import FAILURES, translate
from infra.milvus.lifecycle import warn_without_retractions
from infra.milvus.lifecycle_calls import LifecycleCalls
from infra.milvus.records import ListingRecord, Neighbour
from infra.milvus.schema import (
    DEFAULT_IVF,
    FIRST_SEEN_FIELD,
    IMAGE_FIELD,
    LEXICAL_FIELD,
    MATCH_GROUP_FIELD,
    MEMBER_FIELDS,
    MODEL_VERSION_PROPERTY,
    REPORTED_MATCHES_FIELD,
    TEXT_FIELD,
    VECTOR_FIELDS,
    ImageLayout,
    IvfTuning,
    collection_schema,
    index_profiles,
    index_specs,
    listing_row,
    neighbour_from_member,
    string_list_literal,
    vectors_from_row,
)
from infra.milvus.searches import SearchCalls

log = logging.getLogger(__name__)

DEFAULT_REQUEST_TIMEOUT_S = 30.0
CONNECT_ATTEMPTS = 3


class ListingStore(SearchCalls, LifecycleCalls):
    """A Milvus collection of listings; create it with :meth:`ensure_collection` before use.

    Its searches are in :mod:`infra.milvus.searches`, the reads and writes of updates and deletes in
    :mod:`infra.milvus.lifecycle_calls`; this file keeps the connection, the collection set-up and the
    plain reads and writes."""

    def __init__(
        self,
        uri: str,
        collection: str,
        *,
        model_version: str,
        dim: int = 128,
        token: str | None = None,
        index_type: str = "AUTOINDEX",
        request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
        lexical: bool = False,
        aliased: bool = True,
        ivf: IvfTuning = DEFAULT_IVF,
    ) -> None:
        if dim < 1:
            raise ValueError(f"dim must be positive, got {dim}")
        if not model_version:
            raise ValueError("model_version must not be empty")
        self.uri = uri
        self.shown_uri = masked_uri(uri)  # what messages print: never a password
        self.name = collection  # what the store was opened by: an alias, or a plain collection's name
        self.collection = collection  # the physical collection, resolved by ensure_collection
        self._where = f"'{collection}' at {self.shown_uri}"
        self._aliased = aliased  # a new name becomes an alias on <name>__<model digest> (infra.milvus.aliases)
        self.model_version = model_version
        self.dim = dim
        self.index_type = index_type.upper()
        self.is_lite = is_lite_uri(uri)
        # pymilvus retries failed calls until this timeout; without one it retries for minutes.
        self._timeout = request_timeout_s
        self._profiles = index_profiles(dim, ivf)
        self._search_index_type: str | None = None  # the index the open collection really has
        self._wrote = False  # by this client: its reads may then use AFTER_OWN_WRITES (infra.milvus.chunking)
        self._image_layout: ImageLayout | None = None
        self._lexical_requested = lexical
        self.lexical = False  # whether the open collection has the BM25 channel (see ensure_collection)
        self.groups = False  # whether it stores match groups (collections created by this release on)
        self.reported = False  # whether it stores each listing's reported matches (for retractions)
        self._client: MilvusClient | None = self._connect(token)

    # ---------------------------------------------------------------- lifecycle

    def ensure_collection(self) -> None:
        """Create the collection (schema, indexes, load) or open and validate the existing one.

        The name is resolved once, here: an alias' collection is used until the store closes."""
        check_buildable_index(self.index_type, self._profiles, self.is_lite, self.shown_uri)
        with self._milvus_errors("ensure_collection"):
            client = self._client_or_raise()
            found = resolve(client, self.name, self._timeout)
            self.follow(found or (physical_name(self.name, self.model_version) if self._aliased else self.name))
            if found is None and not client.has_collection(self.collection, timeout=self._timeout):
                self._create_collection()
            self._open_existing()  # indexed and loaded before an alias makes it visible
            if found is None and self._aliased:
                claimed = claim(client, self.name, self.collection, self._timeout)
                if claimed != self.collection:  # another worker's alias won: use (and check) its collection
                    self.follow(claimed)
                    self._open_existing()

    def follow(self, collection: str) -> None:
        """Uses ``collection`` from now on (the one the name resolved to, or a new name after a rename)."""
        self.collection = collection
        alias = f" (alias '{self.name}')" if collection != self.name else ""
        self._where = f"'{collection}'{alias} at {self.shown_uri}"

    def drop(self) -> None:
        with self._milvus_errors("drop"):
            client = self._client_or_raise()
            if client.has_collection(self.collection, timeout=self._timeout):
                drop_aliases(client, self.collection, self._timeout)
                client.drop_collection(self.collection, timeout=self._timeout)
        self._search_index_type = None
        self._image_layout = None

    def milvus_client(self) -> MilvusClient:
        """The open client, for whole-collection work beside the store (infra.milvus.copying)."""
        return self._client_or_raise()

    def close(self) -> None:
        """Release the connection. A Milvus Lite database stays open until the process exits."""
        if self._client is not None:
            self._client.close()
            self._client = None

    # ---------------------------------------------------------------- data

    def upsert(self, records: Sequence[ListingRecord]) -> None:
        """Insert or replace listings; the last record wins when one id appears twice."""
        if not records:
            return
        layout = self._layout_or_raise()
        rows = [
            listing_row(record, layout, self.dim, lexical=self.lexical, groups=self.groups, reported=self.reported)
            for record in _last_per_id(records)
        ]
        with self._milvus_errors("upsert"):
            for chunk in chunks(rows, UPSERT_CHUNK_ROWS):
                self._client_or_raise().upsert(self.collection, chunk, timeout=self._timeout)
                self._wrote = True

    def first_seen(self, ids: Sequence[str]) -> dict[str, int]:
        """When each stored listing was first stored (one query); new listings are absent."""
        unique_ids = list(dict.fromkeys(ids))
        if not unique_ids:
            return {}
        self._layout_or_raise()
        found: dict[str, int] = {}
        with self._milvus_errors("first_seen"):
            for chunk in chunks(unique_ids, FETCH_CHUNK_IDS):
                rows = self._client_or_raise().query(
                    self.collection,
                    # Not ids=: pymilvus quotes string keys without escaping them (a ' ends the literal).
                    filter=f"listing_id in {string_list_literal(chunk)}",
                    output_fields=["listing_id", FIRST_SEEN_FIELD],
                    consistency_level=self._read_level(),
                    timeout=self._timeout,
                )
                found.update((str(row["listing_id"]), int(row[FIRST_SEEN_FIELD])) for row in rows)
        return found

    def members_of(self, groups: Sequence[str], limit: int = MEMBER_QUERY_LIMIT) -> list[Neighbour]:
        """Stored listings of any of the match ``groups`` (one filtered query; similarity NaN).

        Empty where the collection predates match groups.
        """
        wanted = sorted({group for group in groups if group})
        if not wanted or not self.groups:
            return []
        self._layout_or_raise()
        with self._milvus_errors("members_of"):
            rows = self._client_or_raise().query(
                self.collection,
                filter=f"{MATCH_GROUP_FIELD} in {string_list_literal(wanted)}",
                output_fields=MEMBER_FIELDS,
                limit=limit,
                consistency_level=self._read_level(),
                timeout=self._timeout,
            )
        return [neighbour_from_member(row) for row in rows]

    def fetch_vectors(self, ids: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
        """Stored (text, image) vectors by listing id; unknown ids are absent, image None if none."""
        unique_ids = list(dict.fromkeys(ids))
        if not unique_ids:
            return {}
        self._layout_or_raise()
        found: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
        with self._milvus_errors("fetch_vectors"):
            for chunk in chunks(unique_ids, FETCH_CHUNK_IDS):
                rows = self._client_or_raise().query(
                    self.collection,
                    # Not ids=: pymilvus quotes string keys without escaping them (a ' ends the literal).
                    filter=f"listing_id in {string_list_literal(chunk)}",
                    output_fields=VECTOR_FIELDS,
                    consistency_level=self._read_level(),
                    timeout=self._timeout,
                )
                found.update(vectors_from_row(row) for row in rows)
        return found

    def count(self) -> int:
        """Rows in the collection (not the flushed-row statistic, which lags behind upserts)."""
        self._layout_or_raise()
        with self._milvus_errors("count"):
            rows = self._client_or_raise().query(
                self.collection,
                filter="",
                output_fields=["count(*)"],
                consistency_level=self._read_level(),
                timeout=self._timeout,
            )
        return int(rows[0]["count(*)"])

    def _read_level(self) -> str:
        """Session once this client upserted (its searches follow its upserts); Strong before, and after a delete."""
        return AFTER_OWN_WRITES if self._wrote else CONSISTENCY

    # ---------------------------------------------------------------- collection setup

    def _connect(self, token: str | None) -> MilvusClient:
        if self.is_lite:
            if not self.uri.endswith(".db"):
                raise StoreError(
                    f"Milvus uri {self.shown_uri!r} is neither http(s)://host:port nor a local path ending in .db"
                )
            Path(self.uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            try:
                with self._milvus_errors("connect"):
                    # Dedicated: pymilvus otherwise shares one channel per address across clients and keeps it
                    # after they close; Milvus Lite stops a file's server with its last client and may reuse the
                    # port, so a later store could be handed the dead channel.
                    return MilvusClient(uri=self.uri, token=token or "", timeout=self._timeout, dedicated=True)
            except StoreUnavailable as exc:
                # gRPC still shares the TCP connection between channels; one the server closed with GOAWAY
                # "too_many_pings" fails the next call once, then reconnects (seen in CI, at connect).
                if attempt == CONNECT_ATTEMPTS or not _closed_for_pinging(exc):
                    raise
                log.warning("Milvus at %s closed the connection (too many pings); connecting again", self.shown_uri)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _create_collection(self) -> None:
        client = self._client_or_raise()
        layout = self._image_layout_for_server()
        lexical = self._lexical_requested and self._server_has_bm25()
        try:
            client.create_collection(
                self.collection,
                schema=collection_schema(self.dim, layout, lexical=lexical),
                properties={MODEL_VERSION_PROPERTY: self.model_version},
                consistency_level=CONSISTENCY,
                timeout=self._timeout,
            )
        except MilvusException:
            # Another worker may have created it between our check and our create.
            if not client.has_collection(self.collection, timeout=self._timeout):
                raise
            return
        log.info(
            "created Milvus collection %r at %s (index %s, image field as %s, model %s)",
            self.collection, self.shown_uri, self.index_type, layout.value, self.model_version,
        )

    def _open_existing(self) -> None:
        client = self._client_or_raise()
        description = client.describe_collection(self.collection, timeout=self._timeout)
        check_model_version(description.get("properties") or {}, self.model_version, self._where)
        fields = {field["name"]: field for field in description["fields"]}
        check_schema(fields, self.dim, self._where)
        self._image_layout = (
            ImageLayout.VECTOR if fields[IMAGE_FIELD]["type"] == DataType.FLOAT_VECTOR else ImageLayout.ARRAY
        )
        self.lexical = LEXICAL_FIELD in fields  # its rows need lexical_text even where the channel is not searched
        self.groups = MATCH_GROUP_FIELD in fields
        self.reported = REPORTED_MATCHES_FIELD in fields
        if not self.reported:
            warn_without_retractions(self.collection)
        warn_about_channels_off(self.collection, self._lexical_requested, self.lexical, self.groups)
        self._create_missing_indexes(self._image_layout)
        self._search_index_type = self._existing_index_type()
        # Milvus Lite reopens collections released; loading a loaded collection is a cheap no-op.
        client.load_collection(self.collection, timeout=self._timeout)

    def _create_missing_indexes(self, layout: ImageLayout) -> None:
        """Index a new collection, or finish one whose creator stopped before indexing it."""
        client = self._client_or_raise()
        specs = index_specs(layout, self.index_type, self._profiles[self.index_type].build_params, lexical=self.lexical)
        missing = [spec for spec in specs if not self._indexes_on(spec["field_name"])]
        if not missing:
            return
        index_params = MilvusClient.prepare_index_params()
        for spec in missing:
            index_params.add_index(**spec)
        # sync=False: the collection is new and empty, and waiting makes pymilvus poll every 0.5 s.
        client.create_index(self.collection, index_params, timeout=self._timeout, sync=False)

    def _indexes_on(self, field_name: str) -> list[str]:
        return list(self._client_or_raise().list_indexes(self.collection, field_name=field_name, timeout=self._timeout))

    def _existing_index_type(self) -> str:
        index_name = self._indexes_on(TEXT_FIELD)[0]
        index = self._client_or_raise().describe_index(self.collection, index_name, timeout=self._timeout)
        return existing_index_type(index, self.index_type, self._profiles, self.collection)

    def _image_layout_for_server(self) -> ImageLayout:
        if self.is_lite:
            return ImageLayout.VECTOR
        return ImageLayout.ARRAY if self._server_version() < (2, 4) else ImageLayout.VECTOR

    def _server_has_bm25(self) -> bool:
        """BM25 full-text search: Milvus Lite and servers from 2.5 on."""
        return self.is_lite or self._server_version() >= (2, 5)

    def _server_version(self) -> tuple[int, int]:
        return parse_server_version(self._client_or_raise().get_server_version(timeout=self._timeout))

    # ---------------------------------------------------------------- helpers

    def _client_or_raise(self) -> MilvusClient:
        if self._client is None:
            raise StoreError(f"the store for collection {self._where} is closed")
        return self._client

    def _layout_or_raise(self) -> ImageLayout:
        if self._image_layout is None:
            raise StoreError(f"call ensure_collection() before using collection '{self.collection}'")
        return self._image_layout

    @contextmanager
    def _milvus_errors(self, action: str) -> Iterator[None]:
        """Translate pymilvus/gRPC failures into StoreUnavailable (retryable) or StoreError."""
        try:
            yield
        except FAILURES as exc:
            raise self._translate(action, exc) from exc

    def _translate(self, action: str, exc: MilvusException | grpc.RpcError) -> StoreError:
        where = f"Milvus {action} on collection {self._where}"
        hint = ""
        if self.is_lite and action == "connect":
            hint = " (Milvus Lite allows one process per database: is another worker using it?)"
        error = translate(where, exc, hint=hint)
        # The server's own message may quote the URI it was given.
        return type(error)(str(error).replace(self.uri, self.shown_uri)) if self.uri != self.shown_uri else error


def is_lite_uri(uri: str) -> bool:
    return not uri.startswith(("http://", "https://", "tcp://", "unix:"))


def _last_per_id(records: Sequence[ListingRecord]) -> list[ListingRecord]:
    """Milvus rejects or arbitrarily resolves duplicate keys within one upsert; keep the last."""
    return list({record.listing_id: record for record in records}.values())


def _closed_for_pinging(exc: BaseException) -> bool:
    """Whether a gRPC GOAWAY "too many pings" (the server's keepalive policy) is behind ``exc``."""
    visited: set[int] = set()
    seen: BaseException | None = exc
    while seen is not None and id(seen) not in visited:  # pymilvus raises `e from e`: the chain can loop
        if "too many pings" in str(seen).lower():
            return True
        visited.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    return False
