"""Photo-to-photo duplicates, per signal: retrieval (recall@1, recall@5) and pair F1 with hard negatives.

The signals are the image encoder (cosine of unit embeddings), the perceptual hash (similarity
1 - differing bits / 64) and both together. Whatever is learnt (each pair threshold, the retrieval
fusion weight, the pair logistic regression) is chosen on the train split and applied unchanged to
the split scored, so no figure is tuned on the photos it reports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from decider.evaluation.metrics import pair_metrics
from decider.features.photos import PHASH_BITS, parse_phash

TOP_K = (1, 5)
# Weights w of the retrieval fusion cosine - w * bits/64 tried on train; 0 is the encoder alone.
FUSION_WEIGHTS = tuple(round(0.1 * step, 1) for step in range(21))
HARD_NEGATIVES_PER_POSITIVE = 3
TIES = "ranking ties (common for the hash's integer distances) go to the lower photo index (stable sort)"


@dataclass(frozen=True)
class PhotoSignals:
    """One split's photos: their labels and the signals measured on them (None when not measured)."""

    products: np.ndarray  # (n,) product ids
    coarse: np.ndarray  # (n,) coarse class ids
    embeddings: np.ndarray | None = None  # (n, d) unit rows
    hashes: np.ndarray | None = None  # (n,) uint64 pHashes

    def __post_init__(self) -> None:
        n = len(self.products)
        sizes = [len(self.coarse)] + [len(a) for a in (self.embeddings, self.hashes) if a is not None]
        if any(size != n for size in sizes):
            raise ValueError(f"photo signals of different lengths: {[n, *sizes]}")

    def names(self) -> list[str]:
        present = [name for name, a in (("encoder", self.embeddings), ("hash", self.hashes)) if a is not None]
        return present + (["both"] if len(present) == 2 else [])


@dataclass(frozen=True)
class PhotoPairs:
    """Index pairs (left < right) of a split and their labels: 1 same product, 0 hard negative."""

    left: np.ndarray
    right: np.ndarray
    labels: np.ndarray
    hard_negatives_available: int


def hashes_as_ints(hex_hashes: Sequence[str]) -> np.ndarray:
    """16-hex-digit pHashes as uint64; ValueError naming the first malformed one."""
    values = []
    for position, text in enumerate(hex_hashes):
        value = parse_phash(text)
        if value is None:
            raise ValueError(f"photo #{position}: {text!r} is not a 16-hex-digit pHash")
        values.append(value)
    return np.asarray(values, dtype=np.uint64)


# --- retrieval -----------------------------------------------------------------------------------


def similarity_matrix(signals: PhotoSignals, name: str, weight: float = 0.0) -> np.ndarray:
    """(n, n) similarities of one signal; "both" is cosine - weight * bits/64."""
    if name == "encoder":
        return _embeddings(signals) @ _embeddings(signals).T
    bits = np.bitwise_count(_hashes(signals)[:, None] ^ _hashes(signals)[None, :]).astype(np.float64)
    if name == "hash":
        return 1.0 - bits / PHASH_BITS
    return _embeddings(signals) @ _embeddings(signals).T - weight * bits / PHASH_BITS


def retrieval(similarities: np.ndarray, products: np.ndarray) -> dict[str, Any]:
    """recall@k: share of queries with a same-product photo among their k most similar other photos.

    Every photo with at least one same-product partner in the split is a query; the gallery is
    the split's other photos. Ties go to the lower index (stable sort).
    """
    products = np.asarray(products)
    scores = np.array(similarities, dtype=np.float64)
    np.fill_diagonal(scores, -np.inf)  # a photo is not its own neighbour
    same = products[:, None] == products[None, :]
    queries = same.sum(axis=1) > 1  # itself, and at least one other
    ranked = np.argsort(-scores, axis=1, kind="stable")[queries, : max(TOP_K)]
    hits = products[ranked] == products[queries][:, None]
    report: dict[str, Any] = {
        f"recall_at_{k}": float(hits[:, :k].any(axis=1).mean()) if len(hits) else 0.0 for k in TOP_K
    }
    report["queries"] = int(queries.sum())
    return report


def fusion_weight(train: PhotoSignals) -> float:
    """The hash weight of the retrieval fusion with the best train recall@1 (the smallest on a tie)."""
    cosine, bits_share = similarity_matrix(train, "encoder"), 1.0 - similarity_matrix(train, "hash")
    recalls = [retrieval(cosine - w * bits_share, train.products)["recall_at_1"] for w in FUSION_WEIGHTS]
    return FUSION_WEIGHTS[int(np.argmax(recalls))]


# --- pairs ---------------------------------------------------------------------------------------


def photo_pairs(
    products: np.ndarray, coarse: np.ndarray, seed: int, per_positive: int = HARD_NEGATIVES_PER_POSITIVE
) -> PhotoPairs:
    """Every same-product pair, and hard negatives (same coarse class, other product): all of them,
    or a seeded sample of ``per_positive`` per positive when there are more."""
    products, coarse = np.asarray(products), np.asarray(coarse)
    left, right = np.triu_indices(len(products), k=1)
    positive = products[left] == products[right]
    hard = (coarse[left] == coarse[right]) & ~positive
    positives, negatives = np.flatnonzero(positive), np.flatnonzero(hard)
    budget = per_positive * len(positives)
    if len(negatives) > budget:
        negatives = np.sort(np.random.default_rng(seed).choice(negatives, size=budget, replace=False))
    chosen = np.concatenate([positives, negatives])
    labels = np.concatenate([np.ones(len(positives), np.int64), np.zeros(len(negatives), np.int64)])
    return PhotoPairs(left[chosen], right[chosen], labels, hard_negatives_available=int(hard.sum()))


def pair_features(signals: PhotoSignals, pairs: PhotoPairs) -> np.ndarray:
    """(m, f) per pair: [cosine] and/or [hash similarity], in the order of ``signals.names()``."""
    columns = []
    if signals.embeddings is not None:
        columns.append(np.einsum("ij,ij->i", signals.embeddings[pairs.left], signals.embeddings[pairs.right]))
    if signals.hashes is not None:
        bits = np.bitwise_count(signals.hashes[pairs.left] ^ signals.hashes[pairs.right])
        columns.append(1.0 - bits.astype(np.float64) / PHASH_BITS)
    return np.column_stack(columns)


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The threshold t maximising F1 of ``score >= t`` (the highest cut on a tie).

    t sits halfway between the last score taken and the next lower one, so a scored pair just
    under the lowest train positive is not lost to a threshold fitted to the train set's edge.
    """
    order = np.argsort(-scores, kind="stable")
    ordered, hits = scores[order], np.cumsum(labels[order])
    last_of_value = np.r_[ordered[1:] != ordered[:-1], True]  # a cut can only fall between distinct scores
    cuts = ordered[last_of_value]
    f1 = 2 * hits[last_of_value] / (np.arange(1, len(scores) + 1)[last_of_value] + labels.sum())
    best = int(np.argmax(f1))
    return float((cuts[best] + cuts[best + 1]) / 2 if best + 1 < len(cuts) else cuts[best])


def pair_f1(
    train_scores: np.ndarray, train_labels: np.ndarray, scores: np.ndarray, labels: np.ndarray
) -> dict[str, Any]:
    """Pair metrics at the F1-best threshold of the train pairs, and the threshold-free average precision."""
    from sklearn.metrics import average_precision_score

    threshold = best_threshold(train_scores, train_labels)
    ranking = float(average_precision_score(labels, scores)) if labels.any() else 0.0
    metrics = pair_metrics(scores, labels, threshold).as_dict()
    return metrics | {"average_precision": ranking, "threshold_chosen_on": "train"}


def pair_scorers(train: PhotoSignals, train_pairs: PhotoPairs) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Feature matrix -> scores, per signal; "both" is a logistic regression fitted on the train pairs."""
    names = train.names()
    scorers: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        name: (lambda features, column=column: features[:, column]) for column, name in enumerate(names[:2])
    }
    if "both" in names:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression().fit(pair_features(train, train_pairs), train_pairs.labels)
        scorers["both"] = lambda features: model.predict_proba(features)[:, 1]
    return scorers


# --- the report ----------------------------------------------------------------------------------


def evaluate_photos(train: PhotoSignals, scored: PhotoSignals, *, seed: int = 7) -> dict[str, Any]:
    """Retrieval and hard-negative pair F1 of every signal ``scored`` has; numbers rounded to 4 places."""
    names = scored.names()
    if not names or train.names() != names:
        raise ValueError(f"train and scored splits must carry the same signals, got {train.names()} and {names}")
    weight = fusion_weight(train) if "both" in names else 0.0
    retrieval_figures = {name: retrieval(similarity_matrix(scored, name, weight), scored.products) for name in names}
    train_pairs = photo_pairs(train.products, train.coarse, seed)
    pairs = photo_pairs(scored.products, scored.coarse, seed)
    scorers = pair_scorers(train, train_pairs)
    train_features, features = pair_features(train, train_pairs), pair_features(scored, pairs)
    f1_figures = {
        name: pair_f1(score(train_features), train_pairs.labels, score(features), pairs.labels)
        for name, score in scorers.items()
    }
    if "hash" in f1_figures:  # the hash threshold read as bits: a pair is a duplicate at or below this many
        f1_figures["hash"]["max_differing_bits"] = int(PHASH_BITS * (1 - f1_figures["hash"]["threshold"]) + 1e-9)
    report = {
        "photos": len(scored.products),
        "products": len(set(scored.products.tolist())),
        "signals": names,
        "retrieval": retrieval_figures,
        "pair_f1": f1_figures,
        "pairs": _pair_counts(pairs) | {"train": _pair_counts(train_pairs), "seed": seed},
        "method": _method(names, weight),
    }
    return _rounded(report)


def _pair_counts(pairs: PhotoPairs) -> dict[str, Any]:
    positives = int(pairs.labels.sum())
    return {
        "positives": positives,
        "hard_negatives": len(pairs.labels) - positives,
        "hard_negatives_available": pairs.hard_negatives_available,
        # What calling every pair a duplicate scores: a signal's F1 means something only above it.
        "f1_if_all_duplicates": 2 * positives / (positives + len(pairs.labels)) if positives else 0.0,
    }


def _method(names: list[str], weight: float) -> dict[str, Any]:
    method: dict[str, Any] = {
        "retrieval": "query = each photo with a same-product partner; gallery = the split's other photos",
        "ties": TIES,
        "hard_negatives": f"same coarse class, other product; all, or a seeded sample of "
        f"{HARD_NEGATIVES_PER_POSITIVE} per positive when there are more",
        "thresholds": "F1-best cut on the train split's pairs of the same kind, halfway to the next score",
    }
    if "both" in names:
        method["both_retrieval"] = f"cosine - w * hash_bits/64, w = {weight} (best train recall@1 over 0..2)"
        method["both_pairs"] = "logistic regression on (cosine, 1 - hash_bits/64) fitted on the train pairs"
        method["fusion_weight"] = weight
    return method


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _embeddings(signals: PhotoSignals) -> np.ndarray:
    if signals.embeddings is None:
        raise ValueError("no embeddings were given")
    return signals.embeddings


def _hashes(signals: PhotoSignals) -> np.ndarray:
    if signals.hashes is None:
        raise ValueError("no hashes were given")
    return signals.hashes
