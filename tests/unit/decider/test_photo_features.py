"""Photo-hash evidence: Hamming distance between two listings' pHashes, as a pair feature and a reason."""

import math

import numpy as np

from decider.features.explain import describe
from decider.features.pair import feature_names, pair_features
from decider.features.photos import parse_phash, photo_hash_bits
from decider.pairs import CandidatePairs


def test_hamming_distance_counts_differing_bits_and_ignores_case() -> None:
    assert photo_hash_bits({"image_phash": "94974f937d4c2433"}, {"image_phash": "94974F937D4C2433"}) == 0.0
    assert photo_hash_bits({"image_phash": "0000000000000000"}, {"image_phash": "000000000000000f"}) == 4.0
    assert photo_hash_bits({"image_phash": "0000000000000000"}, {"image_phash": "ffffffffffffffff"}) == 64.0


def test_a_missing_or_malformed_hash_is_unknown_not_a_disagreement() -> None:
    assert math.isnan(photo_hash_bits({"image_phash": "94974f937d4c2433"}, {}))
    assert math.isnan(photo_hash_bits({"image_phash": "xyz"}, {"image_phash": "94974f937d4c2433"}))
    assert parse_phash("94974f937d4c24") is None and parse_phash(None) is None


def test_the_pair_matrix_carries_the_hash_distance_and_the_reason_names_it() -> None:
    vectors = np.eye(2, 4, dtype=np.float32)
    query = {"title": "tas wanita", "image_phash": "94974f937d4c2433"}
    candidates = [{"title": "kabel usb", "image_phash": "94974f937d4c2433"}, {"title": "kabel usb"}]
    pairs = CandidatePairs.from_vectors(
        ["q", "q"], ["same", "none"], vectors[[0, 0]], vectors, query_listings=[query, query], candidate_listings=candidates
    )
    column = feature_names().index("photo_hash_bits")
    features = pair_features(pairs)
    assert features[0, column] == 0.0 and math.isnan(features[1, column])
    assert describe("photo_hash_bits", 0.0, query, candidates[0]) == "same photo (identical perceptual hash)"
    assert "different photos (30 of 64" in describe("photo_hash_bits", 30.0, query, candidates[1])
