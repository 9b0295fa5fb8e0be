"""Known products: labeled listings the decider compares new pairs against.

Two new listings that both sit closest to the same known product are probably the same product;
two that sit closest to different known products probably are not, however alike their titles read
("WD40EFZX 4TB" vs "WD60EFZX 6TB" land near each other, but each nearest to its own product's
other offers). ``dedup train`` keeps the train split's listings with their product ids (truth.csv
clusters, else the products its positive pairs imply) in the model folder, and the decider turns a
pair's two neighbourhoods into four features.

A pair's own listings are never used as its known products: otherwise a labeled training pair would
read its own label (b's product) through a's nearest neighbour, b. The same rule holds in the stream,
where a listing replayed from the training data finds itself among the known products.

Lookups are exact (one matrix product per batch) over at most ``MAX_KNOWN_LISTINGS`` vectors, which
covers a labeled set of any size these commands train on; a catalog of millions of known listings
belongs in its own Milvus collection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from decider.errors import DeciderError
from decider.pairs import CandidatePairs
from infra.files import write_atomically

KNOWN_PRODUCTS_FILE = "known-products.npz"
KNOWN_PRODUCT_FEATURES = (
    "known_product_same",  # 1: both nearest to one product, 0: to different ones
    "known_product_shared_similarity",  # best product among both neighbourhoods, by its weaker side
    "known_product_shared_count",  # products the two neighbourhoods share
    "known_product_similarity",  # how close the farther listing is to any known product
)
NEIGHBOURS = 5
MAX_KNOWN_LISTINGS = 200_000
_HASH_HEX = 12


@dataclass(frozen=True)
class _Neighbourhood:
    products: np.ndarray  # (pairs, k) product index of each nearest known listing, nearest first
    similarities: np.ndarray  # (pairs, k)


class KnownProducts:
    """Unit vectors of labeled listings and the product each belongs to."""

    def __init__(self, listing_ids: Sequence[str], product_ids: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) != len(listing_ids) or len(listing_ids) != len(product_ids):
            raise ValueError(
                f"known products need one vector and one product per listing: {len(listing_ids)} listings,"
                f" {len(product_ids)} products, vectors of shape {vectors.shape}"
            )
        if len(listing_ids) > MAX_KNOWN_LISTINGS:
            raise ValueError(f"{len(listing_ids)} known listings is over the in-memory limit of {MAX_KNOWN_LISTINGS}")
        self.listing_ids = list(listing_ids)
        self.product_ids = list(product_ids)
        self.vectors = vectors
        self._row = {listing_id: row for row, listing_id in enumerate(self.listing_ids)}
        product_index = {product: index for index, product in enumerate(dict.fromkeys(self.product_ids))}
        self._products = np.array([product_index[p] for p in self.product_ids], dtype=np.int64)
        digest = hashlib.sha256(vectors.tobytes())
        digest.update("\n".join(f"{i}\t{p}" for i, p in zip(self.listing_ids, self.product_ids)).encode())
        self.version = digest.hexdigest()[:_HASH_HEX]

    def __len__(self) -> int:
        return len(self.listing_ids)

    def __repr__(self) -> str:
        return f"KnownProducts({len(self)} listings, {len(set(self.product_ids))} products, version={self.version})"

    @classmethod
    def from_labeled(
        cls, products: Mapping[str, str], vectors: Mapping[str, np.ndarray], listing_ids: Sequence[str]
    ) -> "KnownProducts":
        """The listings among ``listing_ids`` that have a product, in sorted order (reproducible)."""
        known = sorted(i for i in set(listing_ids) if i in products and i in vectors)
        dim = len(next(iter(vectors.values()))) if vectors else 0
        matrix = np.array([vectors[i] for i in known], dtype=np.float32).reshape(len(known), dim)
        return cls(known, [products[i] for i in known], matrix)

    def pair_features(self, pairs: CandidatePairs) -> np.ndarray:
        """(len(pairs), 4) float32 in ``KNOWN_PRODUCT_FEATURES`` order; vectorised over the pairs."""
        features = np.full((len(pairs), len(KNOWN_PRODUCT_FEATURES)), np.nan, dtype=np.float32)
        if len(pairs) == 0 or len(self) == 0:
            return features
        query_rows = np.array([self._row.get(i, -1) for i in pairs.query_ids])
        candidate_rows = np.array([self._row.get(i, -1) for i in pairs.candidate_ids])
        own = (query_rows, candidate_rows)
        first = self._neighbourhoods(pairs.query_ids, np.asarray(pairs.query_text, dtype=np.float32), own, missing=-1)
        second = self._neighbourhoods(
            pairs.candidate_ids, np.asarray(pairs.candidate_text, dtype=np.float32), own, missing=-2
        )
        both = (first.similarities[:, 0] > -np.inf) & (second.similarities[:, 0] > -np.inf)
        features[both] = _compare(first, second)[both]
        return features

    def _neighbourhoods(
        self, listing_ids: Sequence[str], vectors: np.ndarray, own: tuple[np.ndarray, np.ndarray], *, missing: int
    ) -> _Neighbourhood:
        """Each row's ``NEIGHBOURS`` nearest known listings other than its pair's own two.

        A micro-batch repeats each query once per candidate: the search runs once per listing id.
        Slots left empty (fewer known listings than neighbours) get product ``missing`` and -inf.
        """
        _, first_row, row_of_unique = np.unique(
            np.asarray(listing_ids, dtype=object).astype(str), return_index=True, return_inverse=True
        )
        rows, similarities = self._nearest(vectors[first_row], NEIGHBOURS + 2)  # +2: room to drop the pair's own
        rows, similarities = rows[row_of_unique], similarities[row_of_unique]
        kept = (rows != own[0][:, None]) & (rows != own[1][:, None])
        # Stable "first NEIGHBOURS kept": sort by (dropped, position), keep the leading columns.
        order = np.argsort(~kept, axis=1, kind="stable")[:, :NEIGHBOURS]
        rows = np.take_along_axis(rows, order, axis=1)
        similarities = np.take_along_axis(similarities, order, axis=1)
        valid = np.take_along_axis(kept, order, axis=1)
        products = np.where(valid, self._products[rows], missing)
        return _Neighbourhood(products, np.where(valid, similarities, -np.inf).astype(np.float32))

    def _nearest(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and similarities of each vector's ``k`` most similar known listings, nearest first."""
        similarities = vectors @ self.vectors.T
        k = min(k, len(self))
        if k < len(self):
            top = np.argpartition(-similarities, k - 1, axis=1)[:, :k]
        else:
            top = np.tile(np.arange(len(self)), (len(vectors), 1))
        top_similarities = np.take_along_axis(similarities, top, axis=1)
        order = np.argsort(-top_similarities, axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_similarities, order, axis=1)

    # --- persistence ------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        def write(temporary: Path) -> None:
            with temporary.open("wb") as handle:
                np.savez(
                    handle,
                    listing_ids=np.array(self.listing_ids, dtype=str),
                    product_ids=np.array(self.product_ids, dtype=str),
                    vectors=self.vectors,
                )

        write_atomically(Path(directory) / KNOWN_PRODUCTS_FILE, write)

    @classmethod
    def load(cls, directory: Path, expected_version: str) -> "KnownProducts":
        path = Path(directory) / KNOWN_PRODUCTS_FILE
        try:
            with np.load(path, allow_pickle=False) as stored:
                known = cls(stored["listing_ids"].tolist(), stored["product_ids"].tolist(), stored["vectors"])
        except FileNotFoundError:
            raise DeciderError(f"{path}: missing; the decider was trained with known products") from None
        except (OSError, KeyError, ValueError) as exc:
            raise DeciderError(f"{path}: unreadable ({exc})") from None
        if known.version != expected_version:
            raise DeciderError(f"{path}: contents ({known.version}) do not match the decider's ({expected_version})")
        return known


def _compare(first: _Neighbourhood, second: _Neighbourhood) -> np.ndarray:
    """The four features for every row at once; rows lacking a neighbour are masked by the caller."""
    same_product = first.products[:, :, None] == second.products[:, None, :]  # (n, k, k)
    # A product's similarity is its nearest listing's: max over matches of the weaker side's similarity.
    weaker = np.minimum(first.similarities[:, :, None], second.similarities[:, None, :])
    shared_similarity = np.where(same_product, weaker, 0.0).max(axis=(1, 2))
    earlier_same = first.products[:, :, None] == first.products[:, None, :]
    first_occurrence = ~np.tril(earlier_same, k=-1).any(axis=2)  # count each product of ``first`` once
    shared_count = (first_occurrence & same_product.any(axis=2)).sum(axis=1)
    return np.column_stack(
        [
            (first.products[:, 0] == second.products[:, 0]).astype(np.float32),
            shared_similarity,
            shared_count.astype(np.float32),
            np.minimum(first.similarities[:, 0], second.similarities[:, 0]),
        ]
    ).astype(np.float32)
