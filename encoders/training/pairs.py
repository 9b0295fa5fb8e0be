"""Fine-tuning data: duplicate text pairs and hard negatives, checked and indexed (``prepare_pairs``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from encoders.product_groups import group_roots

_FINGERPRINT_HEX = 16


@dataclass(frozen=True)
class PreparedPairs:
    """Validated training pairs as indices into ``texts``; see :func:`prepare_pairs`."""

    texts: list[str]
    pairs: np.ndarray  # (n, 2) text indices; unordered duplicates and identical texts removed
    products: np.ndarray  # (len(texts),) product id: connected component of the positive pairs
    negatives: tuple[np.ndarray, ...]  # per text index: its usable hard negatives
    fingerprint: str
    counts: dict[str, int]


def prepare_pairs(
    positives: Sequence[tuple[str, str]], hard_negatives: Mapping[str, Sequence[str]] | None
) -> PreparedPairs:
    """Check and index the training data; raises ValueError naming the first bad entry.

    Dropped, and counted: pairs of identical texts (nothing to learn), repeated pairs, hard
    negatives of texts that are in no positive pair (never an anchor), and hard negatives that the
    positives make the same product as their anchor (contradictory labels: the positives win).
    """
    if isinstance(positives, str | bytes) or len(positives) == 0:
        raise ValueError("no positive pairs to fine-tune on; pass a sequence of (text, duplicate text) tuples")
    index: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    for position, pair in enumerate(positives):
        left, right = _checked_pair(pair, position)
        a, b = index.setdefault(left, len(index)), index.setdefault(right, len(index))
        key = (min(a, b), max(a, b))
        if a != b and key not in seen:
            seen.add(key)
            pairs.append((a, b))
    if len(pairs) < 2:
        raise ValueError(
            f"fine-tuning needs at least 2 distinct positive pairs of different texts; "
            f"{len(positives)} given, {len(pairs)} usable"
        )
    anchors = len(index)
    negative_lists = _index_negatives(hard_negatives, index)
    products = _connected_components(len(index), pairs)
    negatives, conflicting = _without_same_product(negative_lists, products)
    counts = {
        "positive_pairs_given": len(positives),
        "positive_pairs_used": len(pairs),
        "positive_pairs_dropped": len(positives) - len(pairs),
        "texts": len(index),
        "products": len(np.unique(products[:anchors])),
        "anchors_with_hard_negatives": sum(1 for row in negatives if len(row)),
        "hard_negatives_used": sum(len(row) for row in negatives),
        "hard_negatives_conflicting_dropped": conflicting,
    }
    return PreparedPairs(
        texts=list(index),
        pairs=np.asarray(pairs, dtype=np.int64),
        products=products,
        negatives=tuple(negatives),
        fingerprint=_fingerprint(positives, hard_negatives),
        counts=counts,
    )


def _checked_pair(pair: object, position: int) -> tuple[str, str]:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise ValueError(f"positives[{position}] must be a (text, text) pair, got {pair!r}")
    for side, text in zip(("left", "right"), pair, strict=True):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"positives[{position}] {side} text must be a non-blank string, got {text!r}")
    return pair[0], pair[1]


def _index_negatives(hard_negatives: Mapping[str, Sequence[str]] | None, index: dict[str, int]) -> list[list[int]]:
    """Hard negatives of known anchors as text indices; ``index`` grows by the new negative texts."""
    anchors = len(index)
    negatives: list[list[int]] = [[] for _ in range(anchors)]
    for anchor, others in (hard_negatives or {}).items():
        row = index.get(anchor)
        if row is None or row >= anchors:
            continue  # not in any positive pair, so never an anchor
        if isinstance(others, str):
            raise ValueError(f"hard_negatives[{anchor!r}] must be a sequence of texts, not a single str")
        for other in others:
            if not isinstance(other, str) or not other.strip():
                raise ValueError(f"hard_negatives[{anchor!r}] holds {other!r}; expected non-blank strings")
            negatives[row].append(index.setdefault(other, len(index)))
    return [sorted(set(row)) for row in negatives]


def _connected_components(n_texts: int, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """A product id per text: (a, b) and (b, c) make a, b, c one product."""
    roots = group_roots(pairs, range(n_texts))
    return np.fromiter((roots[node] for node in range(n_texts)), dtype=np.int64, count=n_texts)


def _without_same_product(negative_lists: list[list[int]], products: np.ndarray) -> tuple[list[np.ndarray], int]:
    kept = [
        np.asarray([n for n in row if products[n] != products[anchor]], dtype=np.int64)
        for anchor, row in enumerate(negative_lists)
    ]
    return kept, sum(len(row) for row in negative_lists) - sum(len(row) for row in kept)


def _fingerprint(positives: Sequence[tuple[str, str]], hard_negatives: Mapping[str, Sequence[str]] | None) -> str:
    payload = {
        "positives": [list(pair) for pair in positives],
        "hard_negatives": {anchor: list(others) for anchor, others in sorted((hard_negatives or {}).items())},
    }
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())
    return digest.hexdigest()[:_FINGERPRINT_HEX]
