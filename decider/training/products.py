"""Which product each labeled listing is: truth.csv clusters, else what a split's positive pairs imply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from decider.datasets.labeled import Dataset, LabeledPair
from decider.known_products import KnownProducts
from encoders.product_groups import group_roots


def products_of(dataset: Dataset, pairs: Sequence[LabeledPair]) -> dict[str, str]:
    """listing_id -> product: truth.csv clusters, else the products ``pairs``' positives imply."""
    return dataset.clusters() or clusters_from_positives(pairs)


def clusters_from_positives(pairs: Sequence[LabeledPair]) -> dict[str, str]:
    """Products implied by a split's positive pairs, for sets without truth.csv.

    Only listings with a known duplicate get a product: two such listings in different products
    are taken as different (true where each product is listed once per shop, as in Abt-Buy).
    """
    return group_roots((pair.left_id, pair.right_id) for pair in pairs if pair.label == 1)


def known_products(dataset: Dataset, pairs: Sequence[LabeledPair], vectors: Mapping[str, np.ndarray]) -> KnownProducts:
    """The listings of ``pairs`` (the train split) with their products: truth.csv, else implied by the positives."""
    return KnownProducts.from_labeled(
        products_of(dataset, pairs), vectors, [i for p in pairs for i in (p.left_id, p.right_id)]
    )
