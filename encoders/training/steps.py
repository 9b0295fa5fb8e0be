"""The training plan: every step's pairs and hard negatives, drawn up front from the seed."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from encoders.training.config import FinetuneConfig
from encoders.training.pairs import PreparedPairs


@dataclass(frozen=True)
class Step:
    """One optimisation step: text indices of the pairs' two sides and of each side's hard negatives."""

    epoch: int
    lefts: np.ndarray
    rights: np.ndarray
    left_negatives: np.ndarray
    right_negatives: np.ndarray


def plan_steps(data: PreparedPairs, config: FinetuneConfig) -> list[Step]:
    """Every step of every epoch, drawn up front from the seed: the plan alone fixes the data order."""
    rng = np.random.default_rng(config.seed)
    pair_products = data.products[data.pairs[:, 0]]
    steps: list[Step] = []
    for epoch in range(config.epochs):
        order = rng.permutation(len(data.pairs))
        for batch in _one_pair_per_product(order, pair_products, config.batch_size):
            lefts, rights = data.pairs[batch, 0], data.pairs[batch, 1]
            steps.append(
                Step(
                    epoch=epoch,
                    lefts=lefts,
                    rights=rights,
                    left_negatives=_sample_negatives(rng, lefts, data.negatives, config.hard_negatives_per_anchor),
                    right_negatives=_sample_negatives(rng, rights, data.negatives, config.hard_negatives_per_anchor),
                )
            )
    return steps


def epochs_done(plan: Sequence[Step], steps_done: int) -> float:
    """How far through the plan ``steps_done`` steps got, in epochs (fractional in a cut epoch)."""
    if steps_done == 0:
        return 0.0
    last_epoch = plan[steps_done - 1].epoch
    in_last_epoch = [step for step in plan if step.epoch == last_epoch]
    done_in_last = steps_done - sum(1 for step in plan if step.epoch < last_epoch)
    return last_epoch + done_in_last / len(in_last_epoch)


def _one_pair_per_product(order: np.ndarray, pair_products: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Batches in ``order``, deferring a pair whose product already has a pair in the batch.

    Two pairs of one product in a batch would make each other's listings false negatives; the
    loss masks those anyway, but a batch of distinct products keeps every negative informative.
    """
    pending = deque(int(p) for p in order)
    while pending:
        batch: list[int] = []
        products_in_batch: set[int] = set()
        deferred: list[int] = []
        while pending and len(batch) < batch_size:
            pair = pending.popleft()
            if pair_products[pair] in products_in_batch:
                deferred.append(pair)
            else:
                batch.append(pair)
                products_in_batch.add(int(pair_products[pair]))
        pending.extendleft(reversed(deferred))
        yield np.asarray(batch, dtype=np.int64)


def _sample_negatives(
    rng: np.random.Generator, anchors: np.ndarray, negatives: Sequence[np.ndarray], per_anchor: int
) -> np.ndarray:
    chosen = [
        rng.choice(negatives[anchor], size=min(per_anchor, len(negatives[anchor])), replace=False)
        for anchor in anchors
        if per_anchor and len(negatives[anchor])
    ]
    return np.concatenate(chosen).astype(np.int64) if chosen else np.empty(0, dtype=np.int64)
