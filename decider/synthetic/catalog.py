"""A generated catalog: its listings, truth and near misses, and the labeled pairs drawn from it."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from decider.datasets.labeled import LabeledPair, write_dataset
from decider.synthetic.vocabulary import VariantKind
from encoders.product_groups import group_roots


@dataclass(frozen=True)
class SyntheticProduct:
    cluster_id: str
    category: str
    brand: str
    line: str  # brand and family, e.g. "WD Red Plus"
    line_index: int  # its ProductLine is product_lines.CATALOGUE[line_index]
    attributes: dict[str, str]  # axis name -> plainly written value, e.g. {"capacity": "4TB"}
    model_number: str
    canonical_listing_id: str  # the listing written plainly, with no perturbation
    listing_ids: tuple[str, ...]  # in catalog order, the canonical one included


@dataclass(frozen=True)
class NearMiss:
    """``cluster_id`` is ``sibling_cluster_id`` with one axis moved: a different product."""

    cluster_id: str
    sibling_cluster_id: str
    axis: str
    kind: VariantKind


@dataclass
class SyntheticCatalog:
    seed: int
    listings: list[dict[str, Any]]
    truth: dict[str, str]  # listing_id -> cluster_id
    products: dict[str, SyntheticProduct] = field(repr=False)
    near_misses: list[NearMiss] = field(repr=False)
    perturbations: dict[str, tuple[str, ...]] = field(repr=False)  # listing_id -> what was changed

    def pairs(self, n_negatives_per_positive: int = 3, *, clusters: Collection[str] | None = None) -> list[LabeledPair]:
        """Every duplicate pair plus ``n_negatives_per_positive`` negatives per duplicate pair.

        Half of the negatives are hard (near-miss products first, then two products of one
        brand); the rest are random. A catalog without duplicates gives no pairs. ``clusters``
        restricts both sides of every pair to those products.
        """
        if n_negatives_per_positive < 0:
            raise ValueError(f"n_negatives_per_positive must be >= 0, got {n_negatives_per_positive}")
        chosen_clusters = self.products.keys() if clusters is None else set(clusters)
        products = [product for cluster, product in self.products.items() if cluster in chosen_clusters]
        near_misses = [n for n in self.near_misses if {n.cluster_id, n.sibling_cluster_id} <= chosen_clusters]
        rng = random.Random(f"synthetic-pairs:{self.seed}:{n_negatives_per_positive}:{len(products)}")
        positives = [LabeledPair(a, b, 1) for p in products for a, b in combinations(p.listing_ids, 2)]
        chosen = _NegativeSampler(rng, products, near_misses, {pair.key() for pair in positives})
        budget = n_negatives_per_positive * len(positives)
        chosen.add_near_misses(budget // 2)
        chosen.add_same_brand(budget // 2)
        chosen.add_random(budget)
        labeled = positives + chosen.negatives
        rng.shuffle(labeled)
        return labeled

    def write(
        self,
        root: Path | str,
        *,
        n_negatives_per_positive: int = 3,
        valid_fraction: float = 0.2,
        overwrite: bool = False,
    ) -> None:
        """Write the shared layout: listings.jsonl, truth.csv and pairs/{train,valid,all}.csv.

        train and valid are split by product family (a product and its near misses stay
        together), so no product, and no near-miss negative, is in both; each is sampled with
        the requested negative ratio, and all.csv is the two together.
        """
        train_clusters, valid_clusters = self.split_clusters(valid_fraction)
        train = self.pairs(n_negatives_per_positive, clusters=train_clusters)
        valid = self.pairs(n_negatives_per_positive, clusters=valid_clusters)
        by_split = {"train": train, "valid": valid, "all": train + valid}
        write_dataset(Path(root), self.listings, pairs=by_split, truth=self.truth, overwrite=overwrite)

    def split_clusters(self, valid_fraction: float = 0.2) -> tuple[list[str], list[str]]:
        """(train, valid) cluster ids; a near-miss family never straddles the two."""
        if not 0.0 <= valid_fraction <= 1.0:
            raise ValueError(f"valid_fraction must be within [0, 1], got {valid_fraction}")
        family = group_roots(((near.cluster_id, near.sibling_cluster_id) for near in self.near_misses), self.products)
        roots = list(dict.fromkeys(family.values()))
        random.Random(f"synthetic-split:{self.seed}").shuffle(roots)
        valid_roots = set(roots[: round(valid_fraction * len(roots))])
        train = [cluster for cluster in family if family[cluster] not in valid_roots]
        valid = [cluster for cluster in family if family[cluster] in valid_roots]
        return train, valid


class _NegativeSampler:
    """Collects distinct negative pairs from the hardest sources first."""

    def __init__(
        self,
        rng: random.Random,
        products: Sequence[SyntheticProduct],
        near_misses: Sequence[NearMiss],
        taken: set[frozenset[str]],
    ) -> None:
        self._rng = rng
        self._products = products
        self._near_misses = near_misses
        self._taken = taken
        self.negatives: list[LabeledPair] = []

    def add_near_misses(self, up_to: int) -> None:
        by_cluster = {product.cluster_id: product for product in self._products}
        candidates = [
            (left, right)
            for near in self._near_misses
            for left in by_cluster[near.cluster_id].listing_ids
            for right in by_cluster[near.sibling_cluster_id].listing_ids
        ]
        self._rng.shuffle(candidates)
        for left, right in candidates:
            if len(self.negatives) >= up_to:
                return
            self._add(left, right)

    def add_same_brand(self, up_to: int) -> None:
        by_brand: dict[str, list[SyntheticProduct]] = defaultdict(list)
        for product in self._products:
            by_brand[product.brand].append(product)
        groups = [group for group in by_brand.values() if len(group) > 1]
        self._sample(up_to, lambda: self._rng.sample(self._rng.choice(groups), 2) if groups else None)

    def add_random(self, up_to: int) -> None:
        products = self._products
        self._sample(up_to, lambda: self._rng.sample(products, 2) if len(products) > 1 else None)

    def _sample(self, up_to: int, draw_two: Callable[[], list[SyntheticProduct] | None]) -> None:
        attempts = 20 * max(0, up_to - len(self.negatives))  # small catalogs run out of distinct pairs
        for _ in range(attempts):
            if len(self.negatives) >= up_to:
                return
            two = draw_two()
            if two is None:
                return
            self._add(self._rng.choice(two[0].listing_ids), self._rng.choice(two[1].listing_ids))

    def _add(self, left: str, right: str) -> None:
        key = frozenset((left, right))
        if key not in self._taken:
            self._taken.add(key)
            self.negatives.append(LabeledPair(*sorted((left, right)), 0))
