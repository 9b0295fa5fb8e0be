"""Labeled pairs mined from each listing's nearest neighbours: the pairs the decider meets behind the ANN search."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer

from decider.datasets.labeled import Dataset, LabeledPair
from decider.features.codes import listing_codes
from decider.training.products import products_of
from encoders.lexical import lexical_document
from encoders.listing import listing_text
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder


def nearest_neighbour_pairs(ids: Sequence[str], vectors: np.ndarray, neighbours: int) -> list[tuple[str, str]]:
    """Each listing with its ``neighbours`` nearest others by dot product, every unordered pair once.

    ``vectors`` are the unit rows of ``ids``. A pair keeps the orientation it was first found in
    (listing, neighbour), scanning the listings in order.
    """
    if neighbours <= 0 or len(ids) < 2:
        return []
    similarities = vectors @ vectors.T
    np.fill_diagonal(similarities, -np.inf)
    k = min(neighbours, len(ids) - 1)
    nearest = np.argpartition(-similarities, k, axis=1)[:, :k]
    found: dict[frozenset[str], tuple[str, str]] = {}
    for row, columns in enumerate(nearest):
        for column in columns:
            found.setdefault(frozenset((ids[row], ids[column])), (ids[row], ids[column]))
    return list(found.values())


def neighbour_pairs(
    encoder: TextEncoder,
    reducer: PcaReducer,
    listings: Mapping[str, Mapping[str, Any]],
    clusters: Mapping[str, str],
    *,
    neighbours: int = 10,
) -> list[LabeledPair]:
    """Labeled pairs shaped like the worker's candidates: each clustered listing's nearest neighbours.

    Calibrating on these, rather than on a balanced pair sample, sets the threshold for the
    mix of near-misses the decider really sees behind the ANN search.
    """
    ids = [listing_id for listing_id in listings if listing_id in clusters]
    vectors = reducer.transform(encoder.encode([listing_text(listings[i]) for i in ids]))
    return [
        LabeledPair(left, right, int(clusters[left] == clusters[right]))
        for left, right in nearest_neighbour_pairs(ids, vectors, neighbours)
    ]


def lexical_neighbour_pairs(ids: Sequence[str], documents: Sequence[str], neighbours: int) -> list[tuple[str, str]]:
    """Each listing with its ``neighbours`` best BM25 matches among the others, every unordered pair once.

    The offline twin of the worker's lexical channel (Milvus' BM25 over ``encoders.lexical``
    documents): same documents, same k1/b, word tokens lower-cased.
    """
    if neighbours <= 0 or len(ids) < 2:
        return []
    counts = CountVectorizer(token_pattern=r"(?u)\b\w+\b", lowercase=True, dtype=np.float32).fit_transform(documents)
    weights = _bm25_weights(counts.tocsr())
    queries = (counts > 0).astype(np.float32).tocsr()
    k = min(neighbours, len(ids) - 1)
    found: dict[frozenset[str], tuple[str, str]] = {}
    for start in range(0, len(ids), _BM25_CHUNK):
        scores = (queries[start : start + _BM25_CHUNK] @ weights.T).toarray()
        rows = np.arange(scores.shape[0])
        scores[rows, rows + start] = -np.inf
        best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        for row, columns in enumerate(best):
            for column in columns:
                if scores[row, column] > 0:
                    left, right = ids[start + row], ids[column]
                    found.setdefault(frozenset((left, right)), (left, right))
    return list(found.values())


_BM25_CHUNK = 512
_BM25_K1, _BM25_B = 1.2, 0.75  # Milvus' defaults


def _bm25_weights(counts: sparse.csr_matrix) -> sparse.csr_matrix:
    """Each document's BM25 term weights: idf * saturated, length-normalised term frequency."""
    documents = counts.shape[0]
    frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = np.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    norm = _BM25_K1 * (1 - _BM25_B + _BM25_B * lengths / max(lengths.mean(), 1e-9))
    weights = counts.copy()
    row_of_entry = np.repeat(np.arange(documents), np.diff(counts.indptr))
    tf = weights.data
    weights.data = idf[weights.indices] * tf * (_BM25_K1 + 1) / (tf + norm[row_of_entry])
    return weights


def lexical_documents(listings: Mapping[str, Mapping[str, Any]], ids: Sequence[str]) -> list[str]:
    """What the worker's lexical channel would index for each listing."""
    documents = []
    for listing_id in ids:
        listing = listings[listing_id]
        documents.append(lexical_document(listing_text(listing), listing_codes(listing), listing.get("image_phash")))
    return documents


def mine_candidate_pairs(
    dataset: Dataset,
    pairs: Sequence[LabeledPair],
    vectors: Mapping[str, np.ndarray],
    *,
    dense: int,
    lexical: int = 0,
) -> list[LabeledPair]:
    """The pairs the worker's candidate channels would bring among a split's listings, labeled.

    Each listing's ``dense`` nearest vectors and ``lexical`` best BM25 matches among the split's
    listings, labeled by product (truth.csv, else the products the split's positive pairs imply):
    duplicates and near-misses in the proportion the stream meets them, so that trees trained and
    thresholds chosen on them hold over a whole catalog, not only on a balanced pair sample.
    Pairs that a split labels are left out (this split's are already in ``pairs``; another's must
    never be trained on).
    """
    clusters = products_of(dataset, pairs)
    ids = [i for i in sorted({p.left_id for p in pairs} | {p.right_id for p in pairs}) if i in clusters]
    labeled = {pair.key() for split in dataset.splits() for pair in dataset.pairs(split)}
    found = nearest_neighbour_pairs(ids, np.array([vectors[i] for i in ids]), dense)
    found += lexical_neighbour_pairs(ids, lexical_documents(dataset.listings, ids), lexical)
    unique = {frozenset(pair): pair for pair in found}
    return [
        LabeledPair(left, right, int(clusters[left] == clusters[right]))
        for key, (left, right) in unique.items()
        if key not in labeled
    ]


def at_most(pairs: Sequence[LabeledPair], limit: int, seed: int) -> list[LabeledPair]:
    """Every duplicate and a seeded sample of the near-misses, ``limit`` pairs in all at most.

    Bounds the trees' training time on large catalogs (shopee-dev's train listings bring ~300k);
    the near-misses are many and alike, so a sample teaches the trees as much.
    """
    if len(pairs) <= limit:
        return list(pairs)
    duplicates = [pair for pair in pairs if pair.label == 1]
    others = [pair for pair in pairs if pair.label == 0]
    keep = np.random.default_rng(seed).choice(len(others), size=max(limit - len(duplicates), 0), replace=False)
    return duplicates + [others[i] for i in sorted(keep)]
