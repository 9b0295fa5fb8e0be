"""Reindex from the stored listings: each row of the old collection, its text re-encoded by the new model.

The text the encoder reads is rebuilt from the stored decider fields (title and brand, as
:func:`encoders.listing.listing_text` reads them); every other field is copied as it is, by name, so
fields this module does not know travel too. Photo vectors are kept when the image encoder is the
same; otherwise they are dropped (has_image false): only the photos themselves (``--from topic``) can
give vectors of another image encoder.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from decider.features.codes import listing_codes
from encoders.lexical import lexical_document
from encoders.listing import listing_text
from infra.milvus.copying import CollectionFields, collection_fields, iterate_rows, upsert_rows
from infra.milvus.schema import (
    ATTRIBUTES_FIELD,
    IMAGE_FIELD,
    LEXICAL_TEXT_FIELD,
    MATCH_GROUP_FIELD,
    REPORTED_EVENT_FIELD,
    REPORTED_MATCHES_FIELD,
    TEXT_FIELD,
    decode_attributes,
    lexical_text,
)
from infra.milvus.store import ListingStore

if TYPE_CHECKING:  # torch: only where the model is loaded
    from decider.bundle import ModelBundle

IMAGE_VERSION_MARK = "+img:"  # decider.bundle.ModelBundle.embedding_version: text part, then the image part
# A catch-up pass re-reads listings first stored this long before the previous pass began: a worker
# stamps first_seen when its batch starts and upserts later, and its clock may differ from ours.
CATCH_UP_MARGIN_MS = 60_000


class Interrupted(RuntimeError):
    """Stopped by a signal between two batches."""


def image_version(embedding_version: str) -> str:
    """The image encoder part of a collection's model version ('' for a text-only model)."""
    return embedding_version.partition(IMAGE_VERSION_MARK)[2]


def images_kept(old_version: str, new_version: str) -> bool:
    """Photo vectors carry over when both models embed photos the same way (or neither embeds them)."""
    return image_version(old_version) == image_version(new_version)


def stored_text(row: Mapping[str, Any]) -> str:
    """The text the encoder reads, from the stored fields; the lexical document where they are gone
    (attributes over their size limit are stored empty)."""
    attributes = decode_attributes(row.get(ATTRIBUTES_FIELD)) or {}
    return listing_text(attributes) if attributes.get("title") else str(row.get(LEXICAL_TEXT_FIELD) or "")


def new_row(
    row: Mapping[str, Any], text: str, vector: Any, *, writable: Sequence[str], keep_images: bool, dim: int
) -> dict[str, Any]:
    """The new collection's row for an old ``row``: its new text ``vector``, every ``writable`` field it has
    carried as it is, the photo vector kept or cleared, and the fields the old collection predates filled."""
    new = {name: row[name] for name in writable if name in row}
    new[TEXT_FIELD] = vector
    if not keep_images:
        new[IMAGE_FIELD] = [0.0] * dim
        new["has_image"] = False
    if MATCH_GROUP_FIELD in writable and MATCH_GROUP_FIELD not in row:  # its own group, as a new listing's
        new[MATCH_GROUP_FIELD] = row["listing_id"]
    if REPORTED_MATCHES_FIELD in writable and REPORTED_MATCHES_FIELD not in row:  # nothing reported yet
        new[REPORTED_MATCHES_FIELD] = []
        new[REPORTED_EVENT_FIELD] = ""
    if LEXICAL_TEXT_FIELD in writable and LEXICAL_TEXT_FIELD not in row:  # what the worker would index
        attributes = decode_attributes(row.get(ATTRIBUTES_FIELD)) or {}
        document = lexical_document(text, listing_codes(attributes), attributes.get("image_phash"))
        new[LEXICAL_TEXT_FIELD] = lexical_text(document)
    return new


class StoredCopy:
    """Copies the old collection's rows into the new one, re-encoded: a full pass, then catch-up passes."""

    def __init__(
        self,
        old: ListingStore,
        new: ListingStore,
        model: ModelBundle,
        *,
        stop: threading.Event | None = None,
        on_progress: Callable[[int], None] | None = None,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.old, self.new, self.model = old, new, model
        self.keep_images = images_kept(old.model_version, new.model_version)
        self.stop = stop or threading.Event()
        self.on_progress = on_progress or (lambda _n: None)
        self.clock_ms = clock_ms
        old_fields, self.new_fields = collection_fields(old), collection_fields(new)
        self.read = self._fields_to_read(old_fields)
        self._started_ms: int | None = None

    def first_pass(self) -> int:
        self._started_ms = self.clock_ms()
        return self._copy(None)

    def catch_up(self) -> int:
        """Listings first stored since the previous pass began (less the margin)."""
        if self._started_ms is None:
            raise RuntimeError("catch_up() before first_pass()")
        since, self._started_ms = self._started_ms - CATCH_UP_MARGIN_MS, self.clock_ms()
        return self._copy(since)

    def _copy(self, since_ms: int | None) -> int:
        copied = 0
        for batch in iterate_rows(self.old, self.read, first_seen_from_ms=since_ms):
            if self.stop.is_set():
                raise Interrupted("stopped")
            upsert_rows(self.new, self.rows(batch))
            copied += len(batch)
            self.on_progress(len(batch))
        return copied

    def rows(self, batch: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The new collection's rows for ``batch``: new text vectors, the other fields carried."""
        texts = [stored_text(row) for row in batch]
        vectors = self.model.embed(texts)
        writable, keep, dim = self.new_fields.writable, self.keep_images, self.new.dim
        return [
            new_row(row, text, vector, writable=writable, keep_images=keep, dim=dim)
            for row, text, vector in zip(batch, texts, vectors, strict=True)
        ]

    def _fields_to_read(self, old: CollectionFields) -> list[str]:
        """What the new rows need: the fields both collections have, and what the text is rebuilt from."""
        wanted = set(self.new_fields.writable) | {ATTRIBUTES_FIELD, LEXICAL_TEXT_FIELD, "listing_id"}
        replaced = {TEXT_FIELD} if self.keep_images else {TEXT_FIELD, IMAGE_FIELD, "has_image"}
        return [name for name in old.writable if name in wanted and name not in replaced]
