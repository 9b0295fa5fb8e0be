"""``dedup train``: encoder domain adaptation, reducer, decider, threshold, in one model folder.

Steps, each timed in the report:
  1. contrastive fine-tuning of the text encoder on the train split's pairs (optional)
  2. PCA to 128-d fitted on the domain's listings
  3. the pairs the worker's candidate channels would bring (nearest vectors and BM25 matches)
     among the train and among the valid listings, labeled by truth clusters, else by the
     products the split's positive pairs imply
  4. the known products: the train listings with their product, for the known-product features
  5. the decider, twice: trees grown on train and valid, and on valid alone, each calibrated and
     thresholded on out-of-fold valid scores; the better of the two on those scores is kept
Where listings name photos, each photo's perceptual hash (and, with ``--image-model``, its vector) is
computed first, so that the trees learn the photo features the worker computes.
The folder is what ``dedup run --model`` loads; nothing else is needed at serving time.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from decider.bundle import ENCODER_FOLDER, ModelBundle
from decider.datasets.candidate_pairs import labeled_pairs
from decider.datasets.labeled import Dataset, LabeledPair, load_dataset
from decider.datasets.listing_photos import has_photos, read_listing_photos
from decider.known_products import KnownProducts
from decider.models.gradient_boosting import GradientBoostingDecider
from decider.pairs import CandidatePairs
from decider.training.config import TrainConfig
from decider.training.cross_encoder import attach_cross_encoder
from decider.training.fit_trees import fit_decider_cross_validated
from decider.training.mining import at_most, mine_candidate_pairs
from decider.training.products import known_products
from encoders.listing import listing_text
from encoders.reducer import PcaReducer
from encoders.text import TextEncoder
from encoders.training.config import FinetuneConfig
from encoders.training.finetune import finetune_text_encoder

if TYPE_CHECKING:
    from encoders.images.encoder import ImageEncoder

log = logging.getLogger(__name__)


@dataclass
class TrainReport:
    out_dir: Path
    model_version: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    train_pairs: int = 0
    mined: dict[str, Any] = field(default_factory=dict)
    valid: dict[str, Any] = field(default_factory=dict)
    finetune: dict[str, Any] = field(default_factory=dict)
    decider: dict[str, Any] = field(default_factory=dict)
    photos: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[step] = round(time.perf_counter() - started, 1)


def train_model(data_dir: Path, out_dir: Path, config: TrainConfig) -> TrainReport:
    dataset = load_dataset(data_dir)
    train_pairs = dataset.pairs(config.train_split)
    valid_pairs = dataset.pairs(config.valid_split)
    report = TrainReport(out_dir=out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with report.timed("finetune"):
        encoder = adapted_encoder(dataset, train_pairs, out_dir, config, report)
    with report.timed("encode_and_reduce"):
        ids = list(dataset.listings)
        full = encoder.encode([listing_text(dataset.listings[i]) for i in ids])
        # Fitted on the listings of the train and valid pairs only: test listings stay unseen.
        seen = {p.left_id for p in [*train_pairs, *valid_pairs]} | {p.right_id for p in [*train_pairs, *valid_pairs]}
        rows = [index for index, listing_id in enumerate(ids) if listing_id in seen]
        reducer = PcaReducer.fit(full[rows], dim=config.dim, source=encoder.version)
        vectors = dict(zip(ids, reducer.transform(full)))
    with report.timed("photos"):
        images, photo_vectors = read_photos(dataset.listings, data_dir, config, report)
    with report.timed("mine_candidate_pairs"):
        channels = {"dense": config.candidates, "lexical": config.lexical_candidates}
        mined = mine_candidate_pairs(dataset, train_pairs, vectors, **channels)
        mined = at_most(mined, config.max_mined_pairs, config.seed)
        # Valid gets its own, so the threshold is chosen on pairs shaped like the stream's candidates.
        mined_valid = mine_candidate_pairs(dataset, valid_pairs, vectors, **channels)
    report.train_pairs = len(train_pairs) + len(mined)
    report.mined = {
        split: {"pairs": len(found), "duplicates": sum(pair.label for pair in found)}
        for split, found in (("train", mined), ("valid", mined_valid))
    }
    with report.timed("decider"):
        known = known_products(dataset, train_pairs, vectors) if config.known_products is not False else None
        valid_set, valid_labels = labeled_pairs(vectors, dataset.listings, [*valid_pairs, *mined_valid], photo_vectors)
        train_set, train_labels = labeled_pairs(vectors, dataset.listings, [*train_pairs, *mined], photo_vectors)
        decider = best_decider(train_set, train_labels, valid_set, valid_labels, known, config, report)
    with report.timed("cross_encoder"):
        decider = attach_cross_encoder(
            decider, train_set, train_labels, valid_set, valid_labels, out_dir, config, report
        )
    model = ModelBundle(encoder=encoder, reducer=reducer, decider=decider, images=images)
    model.save(out_dir)
    report.model_version = model.version
    # Out-of-fold: the saved trees have seen every valid pair, so their own valid scores would flatter.
    report.valid = {
        **decider.metadata["valid_at_threshold"],
        "threshold": round(decider.threshold, 6),
        "pairs": len(valid_labels),
        "positives": int(valid_labels.sum()),
        "out_of_fold": True,
    }
    return report


def read_photos(
    listings: dict[str, dict[str, Any]], data_dir: Path, config: TrainConfig, report: TrainReport
) -> tuple["ImageEncoder | None", dict[str, np.ndarray]]:
    """Photo hashes (in place) and, with ``--image-model``, photo vectors, when the listings name photos."""
    images = None
    if config.image_model is not None:
        from encoders.images.encoder import ImageEncoder

        images = ImageEncoder.load(config.image_model, device=config.device)
    if not has_photos(listings):
        report.photos = {"listings_with_photos": 0}
        return images, {}
    embed = images.reduced if images is not None else None
    found = read_listing_photos(listings, config.photos_root or data_dir, embed, progress=config.progress)
    report.photos = found.summary()
    return images, found.vectors


def best_decider(
    train_set: CandidatePairs,
    train_labels: np.ndarray,
    valid_set: CandidatePairs,
    valid_labels: np.ndarray,
    known: KnownProducts | None,
    config: TrainConfig,
    report: TrainReport,
) -> GradientBoostingDecider:
    """The trees that score best out of fold on valid: grown on train and valid or on valid alone, with
    or without the known-product features (unless ``config.known_products`` says which).

    Train pairs can mislead the trees: an encoder fine-tuned on them has memorised them (their
    cosine is higher than new listings ever reach), and their listings are the known products,
    which help where valid's products were seen in training and cost F1 where they are new.
    Neither choice wins on every set (see the README), so each run chooses, on valid scores that
    none of the candidates' trees were grown on.
    """
    schemes = {"train+valid": (train_set, train_labels), "valid": (None, None)}
    with_known = [True, False] if config.known_products is None and known is not None else [known is not None]
    fitted = {
        (scheme, uses_known): fit_decider_cross_validated(
            pairs,
            labels,
            valid_set,
            valid_labels,
            target_precision=config.target_precision,
            seed=config.seed,
            known=known if uses_known else None,
        )
        for uses_known in with_known
        for scheme, (pairs, labels) in schemes.items()
    }
    f1 = {key: decider.metadata["valid_at_threshold"]["f1"] for key, decider in fitted.items()}
    chosen = max(f1, key=f1.__getitem__)  # ties keep the first: train+valid, with known products
    label = {(scheme, uses): f"{scheme}{'+known' if uses else ''}" for scheme, uses in f1}
    report.decider = {
        "chosen": label[chosen],
        "known_products": chosen[1],
        "why": "best out-of-fold F1 on valid among " + ", ".join(f"{label[k]} {value:.4f}" for k, value in f1.items()),
        "valid_f1_out_of_fold": {label[key]: value for key, value in f1.items()},
    }
    return fitted[chosen]


def adapted_encoder(
    dataset: Dataset, pairs: Sequence[LabeledPair], out_dir: Path, config: TrainConfig, report: TrainReport
) -> TextEncoder:
    """The fine-tuned encoder saved inside the model folder, or the base encoder unchanged."""
    if not config.finetune:
        return TextEncoder(config.base_model, device=config.device)
    text = {listing_id: listing_text(listing) for listing_id, listing in dataset.listings.items()}
    positives = [(text[p.left_id], text[p.right_id]) for p in pairs if p.label == 1]
    hard_negatives: dict[str, list[str]] = {}
    for pair in pairs:
        if pair.label == 0:
            hard_negatives.setdefault(text[pair.left_id], []).append(text[pair.right_id])
            hard_negatives.setdefault(text[pair.right_id], []).append(text[pair.left_id])
    target = out_dir / ENCODER_FOLDER
    if target.exists():
        shutil.rmtree(target)
    finetuned = finetune_text_encoder(
        config.base_model,
        positives,
        hard_negatives,
        target,
        FinetuneConfig(
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            seed=config.seed,
            max_minutes=config.max_minutes,
        ),
        progress=config.progress,
        device=config.device,
    )
    report.finetune = {
        "steps": finetuned.steps,
        "epochs_done": round(finetuned.epochs_done, 2),
        "loss_first": round(finetuned.loss_first, 4),
        "loss_last": round(finetuned.loss_last, 4),
        "stopped_early": finetuned.stopped_early,
    }
    return TextEncoder(target, device=config.device)
