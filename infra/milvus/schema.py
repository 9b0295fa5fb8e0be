"""The listings collection: field names and limits, the Milvus schema, index profiles, rows to and from records.

One row per listing; ``listing_id`` is the primary key, so upserts are idempotent:

====================  =====================================================================
listing_id            VARCHAR(256), primary key, no auto id
text_vector           FLOAT_VECTOR(dim), L2-normalised, indexed with metric IP (= cosine)
image_vector          FLOAT_VECTOR(dim); zeros when the listing has no image. Milvus < 2.4
                      allows one vector field per collection, so there it is an
                      ARRAY<FLOAT>(dim) instead; the layout is read back from the schema.
has_image             BOOL, tells a real image vector from the zero filler
category, seller_id   VARCHAR(256); "" when unknown
created_at            INT64, epoch milliseconds
first_seen            INT64, epoch milliseconds the listing was first stored (created_at
                      unless the caller says otherwise)
price                 FLOAT; NaN when unknown (a sentinel, because nullable fields need
                      Milvus >= 2.5 and NaN can never be mistaken for a real price)
attributes            VARCHAR(8192), the fields a decider reads as JSON; "" when none
codes                 ARRAY<VARCHAR(64)>, at most 8 normalised product identifiers
match_group           VARCHAR(256): the group of earlier listings this one matched (the group of
                      its best match; its own id until it matches), so that a listing joining a
                      group is compared with the whole group (collections created since 0.x)
reported_matches      ARRAY<VARCHAR(256)>, at most 1,024: the matches the listing's own latest
                      duplicate-found event named (best first), minus those retracted since
reported_event        VARCHAR(64): that event's id ("" when none); with reported_matches, what an
                      update or delete retracts (collections created since listing-deleted)
lexical_text          VARCHAR(2048) through the standard analyzer: the listing text (only
                      in collections created with the lexical channel on)
lexical_sparse        SPARSE_FLOAT_VECTOR that Milvus' BM25 function derives from
                      lexical_text, SPARSE_INVERTED_INDEX with metric BM25 (same)
====================  =====================================================================

The embedding model version is stored as the collection property ``dedup.model_version``.

Importable without pymilvus (the decider reads the limits here): only :func:`collection_schema`
imports it.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from infra.milvus.records import ListingRecord, Neighbour

MODEL_VERSION_PROPERTY = "dedup.model_version"
METRIC = "IP"
MAX_ID_LENGTH = 256
MAX_LABEL_LENGTH = 256
# The fields a decider reads (title, brand, model_number, price, ...) as JSON, returned with each
# search hit so scoring a candidate needs no second round trip.
ATTRIBUTES_FIELD = "attributes"
MAX_ATTRIBUTES_BYTES = 8_192
# Normalised product identifiers (model numbers, GTINs): a lexical candidate channel beside the
# vectors, for duplicates whose titles differ but whose model numbers agree.
CODES_FIELD = "codes"
MAX_CODES_PER_LISTING = 8
MAX_CODE_LENGTH = 64
PRICE_UNKNOWN = float("nan")

TEXT_FIELD = "text_vector"
IMAGE_FIELD = "image_vector"
FIRST_SEEN_FIELD = "first_seen"
MATCH_GROUP_FIELD = "match_group"
# What each listing's own duplicate-found event reported, for retractions (infra.milvus.lifecycle).
REPORTED_MATCHES_FIELD = "reported_matches"
REPORTED_EVENT_FIELD = "reported_event"
MAX_REPORTED_MATCHES = 1_024  # more than the candidate channels' defaults together (20 + 30 + 10 + 50)
MAX_EVENT_ID_LENGTH = 64  # a sha256 in hex
# The lexical channel: Milvus' BM25 function turns the analysed text into a sparse vector (Milvus Lite,
# servers >= 2.5). Only collections created with the channel on have these two fields.
LEXICAL_TEXT_FIELD = "lexical_text"
LEXICAL_FIELD = "lexical_sparse"
MAX_LEXICAL_TEXT_BYTES = 2_048
LEXICAL_METRIC = "BM25"
# Fields a collection must have to be one of ours.
REQUIRED_FIELDS = (
    TEXT_FIELD, IMAGE_FIELD, "has_image", "created_at", FIRST_SEEN_FIELD, ATTRIBUTES_FIELD, CODES_FIELD
)
# What each read asks for: exactly what the matching decoder below reads (plus MATCH_GROUP_FIELD
# where the collection has it).
SEARCH_HIT_FIELDS = ["created_at", FIRST_SEEN_FIELD, ATTRIBUTES_FIELD]
MEMBER_FIELDS = ["listing_id", *SEARCH_HIT_FIELDS, MATCH_GROUP_FIELD]
VECTOR_FIELDS = [TEXT_FIELD, IMAGE_FIELD, "has_image"]


class ImageLayout(enum.Enum):
    VECTOR = "vector"  # FLOAT_VECTOR field (Milvus Lite, Milvus >= 2.4)
    ARRAY = "array"  # ARRAY<FLOAT> field (Milvus < 2.4: one vector field per collection)


def collection_schema(dim: int, layout: ImageLayout, *, lexical: bool = False) -> Any:
    """The pymilvus schema of a new collection (see the table above); ``lexical`` adds the BM25 fields."""
    # Imported here so the limits above cost no pymilvus import (it is slow to import).
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("listing_id", DataType.VARCHAR, is_primary=True, max_length=MAX_ID_LENGTH)
    schema.add_field(TEXT_FIELD, DataType.FLOAT_VECTOR, dim=dim)
    if layout is ImageLayout.VECTOR:
        schema.add_field(IMAGE_FIELD, DataType.FLOAT_VECTOR, dim=dim)
    else:
        schema.add_field(IMAGE_FIELD, DataType.ARRAY, element_type=DataType.FLOAT, max_capacity=dim)
    schema.add_field("has_image", DataType.BOOL)
    schema.add_field("category", DataType.VARCHAR, max_length=MAX_LABEL_LENGTH)
    schema.add_field("seller_id", DataType.VARCHAR, max_length=MAX_LABEL_LENGTH)
    schema.add_field("created_at", DataType.INT64)
    schema.add_field(FIRST_SEEN_FIELD, DataType.INT64)
    schema.add_field("price", DataType.FLOAT)
    schema.add_field(ATTRIBUTES_FIELD, DataType.VARCHAR, max_length=MAX_ATTRIBUTES_BYTES)
    schema.add_field(
        CODES_FIELD,
        DataType.ARRAY,
        element_type=DataType.VARCHAR,
        max_capacity=MAX_CODES_PER_LISTING,
        max_length=MAX_CODE_LENGTH,
    )
    schema.add_field(MATCH_GROUP_FIELD, DataType.VARCHAR, max_length=MAX_ID_LENGTH)
    schema.add_field(
        REPORTED_MATCHES_FIELD,
        DataType.ARRAY,
        element_type=DataType.VARCHAR,
        max_capacity=MAX_REPORTED_MATCHES,
        max_length=MAX_ID_LENGTH,
    )
    schema.add_field(REPORTED_EVENT_FIELD, DataType.VARCHAR, max_length=MAX_EVENT_ID_LENGTH)
    if lexical:
        schema.add_field(LEXICAL_TEXT_FIELD, DataType.VARCHAR, max_length=MAX_LEXICAL_TEXT_BYTES, enable_analyzer=True)
        schema.add_field(LEXICAL_FIELD, DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=[LEXICAL_TEXT_FIELD],
                output_field_names=[LEXICAL_FIELD],
            )
        )
    return schema


# ---------------------------------------------------------------- indexes


@dataclass(frozen=True)
class IndexProfile:
    """How to build one index type and how hard to search it."""

    build_params: Mapping[str, int]
    search_params: Callable[[int], dict[str, int]]  # limit -> params
    lite_can_build: bool


MAX_IVF_NLIST = 65_536  # Milvus' own bound


@dataclass(frozen=True)
class IvfTuning:
    """IVF lists per segment (fixed when the index is built) and lists scanned per query (any time).

    The default scans 1/8 of each segment; the index study measured nlist 1024 / nprobe 64 at 1M
    vectors (README, Performance)."""

    nlist: int = 128
    nprobe: int = 16

    def __post_init__(self) -> None:
        if not 1 <= self.nlist <= MAX_IVF_NLIST:
            raise ValueError(f"nlist must be in 1..{MAX_IVF_NLIST}, got {self.nlist}")
        if not 1 <= self.nprobe <= self.nlist:
            raise ValueError(f"nprobe must be in 1..nlist ({self.nlist}), got {self.nprobe}")


DEFAULT_IVF = IvfTuning()


def index_profiles(dim: int, ivf: IvfTuning = DEFAULT_IVF) -> dict[str, IndexProfile]:
    """Build/search parameters per index type, tuned for recall on up to a few million rows.

    IVF: ``ivf`` (by default 128 lists scanned 16 at a time, ~1/8 of each segment).
    HNSW: M=16 / efConstruction=200 is the usual recall/memory balance; ef never below limit.
    IVF_PQ: 8 dimensions per sub-quantizer, 8 bits each (16 bytes per 128-d vector).
    """
    ivf_build = {"nlist": ivf.nlist}

    def ivf_search(_limit: int) -> dict[str, int]:
        return {"nprobe": ivf.nprobe}

    def no_params(_limit: int) -> dict[str, int]:
        return {}

    return {
        "AUTOINDEX": IndexProfile({}, no_params, lite_can_build=True),
        "FLAT": IndexProfile({}, no_params, lite_can_build=True),
        "HNSW": IndexProfile(
            {"M": 16, "efConstruction": 200}, lambda limit: {"ef": max(64, limit)}, lite_can_build=True
        ),
        "IVF_FLAT": IndexProfile(ivf_build, ivf_search, lite_can_build=True),
        "IVF_SQ8": IndexProfile(ivf_build, ivf_search, lite_can_build=True),
        "IVF_PQ": IndexProfile({**ivf_build, "m": _pq_subquantizers(dim), "nbits": 8}, ivf_search, False),
        "DISKANN": IndexProfile({}, lambda limit: {"search_list": max(100, limit)}, lite_can_build=False),
    }


def _pq_subquantizers(dim: int) -> int:
    """The largest divisor of dim that leaves at least 8 dimensions per sub-quantizer."""
    return max(m for m in range(1, max(1, dim // 8) + 1) if dim % m == 0)


def index_specs(
    layout: ImageLayout, index_type: str, build_params: Mapping[str, int], *, lexical: bool = False
) -> list[dict[str, Any]]:
    """The indexes a collection needs: ``index_type`` on the text vector, FLAT on a vector image field,
    and an inverted index on the BM25 vectors where the collection has the lexical channel."""
    specs = [_index_spec(TEXT_FIELD, index_type, build_params)]
    if lexical:
        specs.append(
            {"field_name": LEXICAL_FIELD, "index_name": LEXICAL_FIELD, "index_type": "SPARSE_INVERTED_INDEX",
             "metric_type": LEXICAL_METRIC, "params": {}}
        )
    if layout is ImageLayout.VECTOR:
        # Milvus loads a collection only when every vector field is indexed. Image vectors are
        # read back by id, never searched, so the cheapest index does.
        specs.append(_index_spec(IMAGE_FIELD, "FLAT", {}))
    return specs


def _index_spec(field_name: str, index_type: str, params: Mapping[str, int]) -> dict[str, Any]:
    return {
        "field_name": field_name,
        "index_name": field_name,
        "index_type": index_type,
        "metric_type": METRIC,
        "params": dict(params),
    }


# ---------------------------------------------------------------- rows


def listing_row(
    record: ListingRecord,
    layout: ImageLayout,
    dim: int,
    *,
    lexical: bool = False,
    groups: bool = False,
    reported: bool = False,
) -> dict[str, Any]:
    """The row stored for ``record``; raises ValueError when a vector is not ``dim``-d."""
    text = _as_vector(record.text_vector, dim, record.listing_id, "text_vector")
    if record.image_vector is None:
        image = np.zeros(dim, dtype=np.float32)
    else:
        image = _as_vector(record.image_vector, dim, record.listing_id, "image_vector")
    row = {
        "listing_id": record.listing_id,
        TEXT_FIELD: text,
        IMAGE_FIELD: image if layout is ImageLayout.VECTOR else image.tolist(),
        "has_image": record.image_vector is not None,
        "category": record.category or "",
        "seller_id": record.seller_id or "",
        "created_at": int(record.created_at_ms),
        FIRST_SEEN_FIELD: int(record.created_at_ms if record.first_seen_ms is None else record.first_seen_ms),
        "price": PRICE_UNKNOWN if record.price is None else float(record.price),
        ATTRIBUTES_FIELD: encode_attributes(record.attributes),
        CODES_FIELD: [code[:MAX_CODE_LENGTH] for code in record.codes[:MAX_CODES_PER_LISTING]],
    }
    if groups:
        row[MATCH_GROUP_FIELD] = record.match_group or record.listing_id
    if reported:
        row[REPORTED_MATCHES_FIELD] = list(record.reported_matches[:MAX_REPORTED_MATCHES])
        row[REPORTED_EVENT_FIELD] = record.reported_event
    if lexical:
        row[LEXICAL_TEXT_FIELD] = lexical_text(record.text)
    return row


def lexical_text(text: str) -> str:
    """The text within the VARCHAR's byte limit (Milvus counts bytes), cut at a character boundary."""
    return text.encode()[:MAX_LEXICAL_TEXT_BYTES].decode(errors="ignore")


def _as_vector(vector: np.ndarray, dim: int, listing_id: str, name: str) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    if array.shape != (dim,):
        raise ValueError(f"listing {listing_id!r}: {name} has shape {array.shape}, expected ({dim},)")
    return array


def neighbour_from_hit(hit: Mapping[str, Any]) -> Neighbour:
    """A search hit (asked for :data:`SEARCH_HIT_FIELDS`) as a neighbour."""
    # Hit.id resolves the primary key whatever the server calls it ("listing_id" or "id").
    entity = hit["entity"]
    return Neighbour(
        listing_id=str(hit.id),  # type: ignore[attr-defined]
        similarity=float(hit["distance"]),
        created_at_ms=int(entity["created_at"]),
        attributes=decode_attributes(entity.get(ATTRIBUTES_FIELD)),
        first_seen_ms=int(entity[FIRST_SEEN_FIELD]),
        match_group=str(entity.get(MATCH_GROUP_FIELD) or ""),
    )


def neighbour_from_text_hit(hit: Mapping[str, Any]) -> Neighbour:
    """A BM25 hit: its score is no cosine, so similarity is NaN (the decider computes it from the vectors)."""
    return dataclasses.replace(neighbour_from_hit(hit), similarity=float("nan"))


def neighbour_from_member(row: Mapping[str, Any]) -> Neighbour:
    """A row found as a member of a match group (asked for :data:`MEMBER_FIELDS`); similarity is NaN."""
    return Neighbour(
        listing_id=str(row["listing_id"]),
        similarity=float("nan"),
        created_at_ms=int(row["created_at"]),
        attributes=decode_attributes(row.get(ATTRIBUTES_FIELD)),
        first_seen_ms=int(row[FIRST_SEEN_FIELD]),
        match_group=str(row.get(MATCH_GROUP_FIELD) or ""),
    )


# The escapes Milvus' expression parser knows. It refuses JSON's \\b, \\f and \\uXXXX ("unknown escape
# sequence": an id holding a backspace stopped the worker) and a raw newline, and takes every other character
# raw (checked on Lite for U+0000-U+001F, U+007F, U+2028, emoji; the fault suite fuzzes the rest).
_MILVUS_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def string_literal(value: str) -> str:
    """A Milvus filter string literal: ``value`` cannot end it early and inject an expression."""
    return '"' + value.translate(_MILVUS_ESCAPES) + '"'


def string_list_literal(values: Sequence[str]) -> str:
    """A Milvus filter list of string literals, every value escaped (see :func:`string_literal`)."""
    return "[" + ", ".join(string_literal(value) for value in values) + "]"


def vectors_from_row(row: Mapping[str, Any]) -> tuple[str, tuple[np.ndarray, np.ndarray | None]]:
    """(listing id, (text vector, image vector or None)) from a row with :data:`VECTOR_FIELDS`."""
    text = np.asarray(row[TEXT_FIELD], dtype=np.float32)
    image = np.asarray(row[IMAGE_FIELD], dtype=np.float32) if row["has_image"] else None
    return str(row["listing_id"]), (text, image)


def encode_attributes(attributes: Mapping[str, Any] | None) -> str:
    """JSON within the VARCHAR limit: long text fields are shortened, never the whole row refused."""
    if not attributes:
        return ""
    encoded = orjson.dumps(attributes, option=orjson.OPT_SERIALIZE_NUMPY)
    if len(encoded) <= MAX_ATTRIBUTES_BYTES:
        return encoded.decode()
    shortened = dict(attributes)
    for name in sorted(shortened, key=lambda key: -len(str(shortened[key]))):
        if isinstance(shortened[name], str):
            shortened[name] = shortened[name][:200]
        encoded = orjson.dumps(shortened, option=orjson.OPT_SERIALIZE_NUMPY)
        if len(encoded) <= MAX_ATTRIBUTES_BYTES:
            return encoded.decode()
    return ""


def decode_attributes(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        decoded = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None
