"""infra.milvus.schema: the decider's fields survive a Milvus row, however long, without failing the row."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.milvus.schema import MAX_ATTRIBUTES_BYTES, IvfTuning, decode_attributes, encode_attributes, index_profiles

FIELDS = st.dictionaries(
    st.sampled_from(["title", "brand", "model_number", "description", "price", "currency"]),
    st.text(max_size=3_000) | st.floats(allow_nan=False, allow_infinity=False) | st.none(),
)


def test_short_attributes_round_trip_unchanged() -> None:
    attributes = {"title": "Sony KD-55X80J 55\" 4K", "price": 799.0, "brand": "Sony"}
    assert decode_attributes(encode_attributes(attributes)) == attributes


@given(FIELDS)
def test_any_attributes_fit_the_varchar_and_keep_their_keys(attributes: dict) -> None:
    encoded = encode_attributes(attributes)
    assert len(encoded.encode()) <= MAX_ATTRIBUTES_BYTES
    decoded = decode_attributes(encoded)
    if not attributes:
        assert decoded is None
    elif len(orjson.dumps(attributes)) <= MAX_ATTRIBUTES_BYTES:
        assert decoded == attributes
    else:  # shortened, never dropped: the decider still sees every field it was given
        assert decoded is not None and decoded.keys() == attributes.keys()
        assert all(decoded[key] == value for key, value in attributes.items() if not isinstance(value, str))


def test_unreadable_stored_values_read_as_no_attributes() -> None:
    assert decode_attributes("") is None
    assert decode_attributes("{not json") is None
    assert decode_attributes("[1, 2]") is None


def test_ivf_tuning_reaches_every_ivf_profile_and_nothing_else() -> None:
    profiles = index_profiles(128, IvfTuning(nlist=1024, nprobe=64))

    for index_type in ("IVF_FLAT", "IVF_SQ8", "IVF_PQ"):
        assert profiles[index_type].build_params["nlist"] == 1024
        assert profiles[index_type].search_params(20) == {"nprobe": 64}
    assert "nlist" not in profiles["HNSW"].build_params
    assert profiles["HNSW"].search_params(20) == {"ef": 64}


def test_the_default_ivf_profile_scans_an_eighth_of_the_lists() -> None:
    profile = index_profiles(128)["IVF_SQ8"]
    assert profile.build_params["nlist"] == 8 * profile.search_params(20)["nprobe"]


@pytest.mark.parametrize(("nlist", "nprobe", "needle"), [(0, 1, "nlist must be"), (8, 9, "nprobe must be in 1..nlist")])
def test_impossible_ivf_tunings_are_refused(nlist: int, nprobe: int, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        IvfTuning(nlist=nlist, nprobe=nprobe)
