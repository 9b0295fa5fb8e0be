"""decider.evaluation.photos: retrieval and hard-negative pair F1 on hand-made sets whose answers are derived below."""

from __future__ import annotations

import math

import numpy as np
import pytest

from decider.evaluation.photos import (
    PhotoSignals,
    best_threshold,
    evaluate_photos,
    fusion_weight,
    hashes_as_ints,
    photo_pairs,
    retrieval,
    similarity_matrix,
)


def at_angles(*degrees: float) -> np.ndarray:
    """Unit vectors in the plane: cosine falls with the angle between them."""
    radians = np.radians(degrees)
    return np.column_stack([np.cos(radians), np.sin(radians)])


def signals(
    products: str, coarse: str, *, degrees: tuple[float, ...] = (), hashes: tuple[int, ...] = ()
) -> PhotoSignals:
    return PhotoSignals(
        products=np.array(list(products)),
        coarse=np.array(list(coarse)),
        embeddings=at_angles(*degrees) if degrees else None,
        hashes=np.array(hashes, dtype=np.uint64) if hashes else None,
    )


def test_encoder_retrieval_counts_each_query_with_a_partner() -> None:
    # a: 0°, 10°; b: 85°, 30°; c: 200°, 205°; four single-photo distractors (never queries) at 52..67°.
    # 0° -> 10° (a) hit; 10° -> 0° (10° away, before 30° at 20°) hit; 85° -> 67, 62, 57, 52 then 30°: rank 5;
    # 30° -> 10° (a) first, 85° only 7th; 200° <-> 205° hits. recall@1 = 4/6, recall@5 = 5/6.
    photos = signals("aabbccdefg", "x" * 10, degrees=(0, 10, 85, 30, 200, 205, 52, 57, 62, 67))
    found = retrieval(similarity_matrix(photos, "encoder"), photos.products)
    assert found == {"recall_at_1": 4 / 6, "recall_at_5": 5 / 6, "queries": 6}


def test_hash_ties_go_to_the_lower_index() -> None:
    # Photo 0 (0x0) is 1 bit from both 1 and 2: the tie goes to photo 1.
    first_is_partner = signals("aab", "xxx", hashes=(0x0, 0x1, 0x1))
    # Photo 0: tie -> photo 1 (same product) hit; photo 1: photo 2 at 0 bits, miss.
    assert retrieval(similarity_matrix(first_is_partner, "hash"), first_is_partner.products)["recall_at_1"] == 0.5
    first_is_other = signals("aba", "xxx", hashes=(0x0, 0x1, 0x1))
    # Photo 0: tie -> photo 1 (other product) miss; photo 2: photo 1 at 0 bits, miss.
    found = retrieval(similarity_matrix(first_is_other, "hash"), first_is_other.products)
    assert found == {"recall_at_1": 0.0, "recall_at_5": 1.0, "queries": 2}


def test_hash_similarity_is_one_minus_differing_bits_over_64() -> None:
    photos = signals("ab", "xx", hashes=(0x0, 0xFF))
    assert similarity_matrix(photos, "hash")[0, 1] == pytest.approx(1 - 8 / 64)


def test_fusion_weight_is_the_smallest_that_wins_on_train() -> None:
    # Identical embeddings: by cosine every photo's nearest is the lowest other index, so b's photos miss
    # (recall@1 0.5). Their hashes are 64 bits apart from a's: w = 0.1 already ranks the partner first.
    helped = signals("aabb", "xxxx", degrees=(0, 0, 0, 0), hashes=(0, 0, 2**64 - 1, 2**64 - 1))
    assert fusion_weight(helped) == 0.1
    # Where the encoder alone finds every partner, adding the hash is not needed: w = 0.
    enough = signals("aabb", "xxxx", degrees=(0, 5, 90, 95), hashes=(0, 2**64 - 1, 0, 2**64 - 1))
    assert fusion_weight(enough) == 0.0


def test_pairs_are_every_same_product_pair_and_same_class_negatives() -> None:
    pairs = photo_pairs(np.array(list("aabc")), np.array(list("xxxy")), seed=1, per_positive=3)
    # (0,1) positive; (0,2), (1,2) same class x, other product; pairs with photo 3 (class y) are not asked.
    assert list(zip(pairs.left.tolist(), pairs.right.tolist(), pairs.labels.tolist(), strict=True)) == [
        (0, 1, 1), (0, 2, 0), (1, 2, 0),
    ]
    sampled = photo_pairs(np.array(list("aabc")), np.array(list("xxxy")), seed=1, per_positive=1)
    assert (int(sampled.labels.sum()), len(sampled.labels) - int(sampled.labels.sum())) == (1, 1)
    assert sampled.hard_negatives_available == 2


def test_best_threshold_maximises_f1_and_cuts_only_between_distinct_scores() -> None:
    # Cut at 0.9: F1 2/4; 0.8: 4/5; 0.7: 4/6; 0.6: 6/7, the best, and the lowest score: no midpoint.
    assert best_threshold(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 1, 0, 1])) == 0.6
    # Cut after 0.8 (F1 4/4) at 0.8 is placed halfway to the next score, 0.4.
    assert best_threshold(np.array([0.9, 0.8, 0.4, 0.2]), np.array([1, 1, 0, 0])) == pytest.approx(0.6)
    # The tie at 0.9 is taken whole: 0.9 gives F1 2/4, 0.5 gives 4/5.
    assert best_threshold(np.array([0.9, 0.9, 0.5]), np.array([1, 0, 1])) == 0.5


def test_pair_f1_uses_the_train_threshold_on_the_scored_split() -> None:
    # Train: positives 20° apart, negatives 40..80° apart -> the cut falls between cos 20° and cos 40°.
    train = signals("aabb", "xxxx", degrees=(0, 20, 60, 80))
    threshold = (math.cos(math.radians(20)) + math.cos(math.radians(40))) / 2  # 0.853, about cos 31.5°
    # Scored: (0,1) 10° apart TP; (2,3) 35° FN; (0,2) 25° and (1,2) 15° apart, other products: FP.
    scored = signals("aabb", "xxxx", degrees=(0, 10, 25, 60))
    report = evaluate_photos(train, scored, seed=0)
    f1 = report["pair_f1"]["encoder"]
    assert f1["threshold"] == round(threshold, 4)
    assert (f1["true_positives"], f1["false_positives"], f1["false_negatives"]) == (1, 2, 1)
    assert (f1["precision"], f1["recall"], f1["f1"]) == (round(1 / 3, 4), 0.5, 0.4)
    # Ranked by cosine: P (0,1) 10°, N (1,2) 15°, N (0,2) 25°, P (2,3) 35°, then negatives:
    # average precision = (1/1 + 2/4) / 2 = 0.75; all six called duplicates would score F1 2*2 / (2+6) = 0.5.
    assert f1["average_precision"] == 0.75
    assert report["pairs"] == {
        "positives": 2, "hard_negatives": 4, "hard_negatives_available": 4, "f1_if_all_duplicates": 0.5, "seed": 0,
        "train": {"positives": 2, "hard_negatives": 4, "hard_negatives_available": 4, "f1_if_all_duplicates": 0.5},
    }
    assert report["signals"] == ["encoder"]


def test_report_with_both_signals_reads_the_hash_threshold_in_bits() -> None:
    # The hash separates perfectly on both splits (same product 0-2 bits, other products 32 bits).
    low, high = 0x0, 0xFFFFFFFF
    train = signals("aabb", "xxxx", degrees=(0, 50, 10, 60), hashes=(low, low | 0x3, high, high))
    scored = signals("aabb", "xxxx", degrees=(0, 50, 10, 60), hashes=(low, low | 0x1, high, high))
    report = evaluate_photos(train, scored, seed=0)
    assert report["signals"] == ["encoder", "hash", "both"]
    # Train: same product 2 and 0 bits apart, other products 30 or 32: the cut falls halfway, at 16 bits.
    assert report["pair_f1"]["hash"]["max_differing_bits"] == 16
    assert report["pair_f1"]["hash"]["f1"] == 1.0
    assert report["retrieval"]["hash"]["recall_at_1"] == 1.0
    # By cosine alone each photo's nearest is the other product's (10° against 50°).
    assert report["retrieval"]["encoder"]["recall_at_1"] == 0.0
    assert report["retrieval"]["both"]["recall_at_1"] == 1.0
    assert report["method"]["fusion_weight"] > 0


def test_signals_must_match_between_train_and_scored() -> None:
    with pytest.raises(ValueError, match="same signals"):
        evaluate_photos(signals("aa", "xx", hashes=(0, 1)), signals("aa", "xx", degrees=(0, 1)))


def test_malformed_hash_is_named() -> None:
    assert hashes_as_ints(["00000000000000ff"]).tolist() == [255]
    with pytest.raises(ValueError, match="photo #1"):
        hashes_as_ints(["00000000000000ff", "xyz"])
