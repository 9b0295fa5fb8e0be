"""PcaReducer: fitting, projection, persistence and the checks that guard against mixing fits."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from encoders.errors import ReducerError
from encoders.reducer import FORMAT_VERSION, METADATA_FILE, PARAMETERS_FILE, PcaReducer

SOURCE = "all-MiniLM-L6-v2@953f9c0d-9ee071f9"


def random_vectors(n: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, width)).astype(np.float32)


@pytest.fixture(scope="module")
def training_vectors() -> np.ndarray:
    return random_vectors(400, 384, seed=0)


@pytest.fixture(scope="module")
def reducer(training_vectors: np.ndarray) -> PcaReducer:
    return PcaReducer.fit(training_vectors, dim=128, source=SOURCE)


@pytest.fixture
def saved(reducer: PcaReducer, tmp_path: Path) -> Path:
    reducer.save(tmp_path)
    return tmp_path


def test_fit_records_shape_and_source(reducer: PcaReducer) -> None:
    assert (reducer.input_dim, reducer.dim) == (384, 128)
    assert reducer.source == SOURCE
    assert reducer.fitted_on == 400
    assert re.fullmatch(r"pca128-[0-9a-f]{12}", reducer.version)


def test_transform_gives_unit_float32_rows(reducer: PcaReducer) -> None:
    projected = reducer.transform(random_vectors(50, 384, seed=1))
    assert projected.shape == (50, 128)
    assert projected.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(projected, axis=1), 1.0, atol=1e-5)


def test_transform_of_empty_batch(reducer: PcaReducer) -> None:
    assert reducer.transform(np.empty((0, 384), dtype=np.float32)).shape == (0, 128)


def test_vector_at_the_mean_maps_to_zero_not_nan(reducer: PcaReducer) -> None:
    projected = reducer.transform(reducer.mean[np.newaxis, :])
    np.testing.assert_array_equal(projected, np.zeros((1, 128), dtype=np.float32))


def test_parameters_are_read_only(reducer: PcaReducer) -> None:
    with pytest.raises(ValueError, match="read-only"):
        reducer.components[0, 0] = 1.0


def test_same_data_gives_same_version(reducer: PcaReducer, training_vectors: np.ndarray) -> None:
    again = PcaReducer.fit(training_vectors.copy(), dim=128, source=SOURCE)
    assert again.version == reducer.version
    np.testing.assert_array_equal(again.transform(training_vectors[:5]), reducer.transform(training_vectors[:5]))


def test_version_depends_on_data_and_source(reducer: PcaReducer, training_vectors: np.ndarray) -> None:
    other_data = PcaReducer.fit(random_vectors(400, 384, seed=2), dim=128, source=SOURCE)
    other_source = PcaReducer.fit(training_vectors, dim=128, source="another-encoder@00000000-00000000")
    assert len({reducer.version, other_data.version, other_source.version}) == 3


def test_save_load_round_trip(reducer: PcaReducer, saved: Path) -> None:
    loaded = PcaReducer.load(saved)
    probe = random_vectors(20, 384, seed=3)
    np.testing.assert_array_equal(loaded.transform(probe), reducer.transform(probe))
    assert (loaded.version, loaded.source, loaded.dim, loaded.input_dim) == (
        reducer.version,
        reducer.source,
        reducer.dim,
        reducer.input_dim,
    )
    np.testing.assert_allclose(loaded.explained_variance_ratio, reducer.explained_variance_ratio)


def test_saved_metadata_describes_the_fit(reducer: PcaReducer, saved: Path) -> None:
    metadata = json.loads((saved / METADATA_FILE).read_text())
    assert metadata["kind"] == "pca"
    assert metadata["version"] == reducer.version
    assert (metadata["dim"], metadata["input_dim"], metadata["fitted_on"]) == (128, 384, 400)
    assert metadata["source"] == SOURCE
    assert len(metadata["explained_variance_ratio"]) == 128
    assert metadata["format_version"] == FORMAT_VERSION


def test_corrupted_parameters_are_detected(saved: Path) -> None:
    parameters = saved / PARAMETERS_FILE
    content = bytearray(parameters.read_bytes())
    content[len(content) // 2] ^= 0xFF
    parameters.write_bytes(bytes(content))
    with pytest.raises(ReducerError, match="corrupted"):
        PcaReducer.load(saved)


def test_truncated_parameters_are_detected(saved: Path) -> None:
    parameters = saved / PARAMETERS_FILE
    parameters.write_bytes(parameters.read_bytes()[:1000])
    with pytest.raises(ReducerError, match="corrupted"):
        PcaReducer.load(saved)


def test_parameters_swapped_from_another_fit_are_detected(saved: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    other_directory = tmp_path_factory.mktemp("other")
    PcaReducer.fit(random_vectors(400, 384, seed=4), dim=128, source=SOURCE).save(other_directory)
    (saved / PARAMETERS_FILE).write_bytes((other_directory / PARAMETERS_FILE).read_bytes())
    with pytest.raises(ReducerError, match="parameters hash to"):
        PcaReducer.load(saved)


@pytest.mark.parametrize(
    ("field", "value"),
    [("version", "pca128-000000000000"), ("source", "tampered@00000000-00000000"), ("whiten", True)],
)
def test_tampered_metadata_is_detected(saved: Path, field: str, value: object) -> None:
    metadata_path = saved / METADATA_FILE
    metadata = json.loads(metadata_path.read_text())
    metadata[field] = value
    metadata_path.write_text(json.dumps(metadata))
    with pytest.raises(ReducerError, match="corrupted"):
        PcaReducer.load(saved)


def test_unreadable_metadata_is_an_error(saved: Path) -> None:
    (saved / METADATA_FILE).write_text("{not json")
    with pytest.raises(ReducerError, match="unreadable"):
        PcaReducer.load(saved)


def test_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ReducerError, match="no saved reducer"):
        PcaReducer.load(tmp_path / "absent")


def test_width_mismatch_names_both_widths(reducer: PcaReducer) -> None:
    with pytest.raises(ReducerError, match="width 384, got width 512"):
        reducer.transform(random_vectors(3, 512, seed=5))


def test_source_mismatch_names_both_versions(reducer: PcaReducer) -> None:
    reducer.check_source(SOURCE)
    with pytest.raises(ReducerError, match=re.escape(f"reducer fitted on {SOURCE}, encoder is other@1")):
        reducer.check_source("other@1")


def test_too_few_vectors_is_a_clear_error() -> None:
    with pytest.raises(ReducerError, match="needs more than 128 vectors, got 100"):
        PcaReducer.fit(random_vectors(100, 384, seed=6), dim=128, source=SOURCE)


def test_dim_wider_than_input_is_rejected() -> None:
    with pytest.raises(ReducerError, match="between 1 and the input width 64"):
        PcaReducer.fit(random_vectors(200, 64, seed=7), dim=128, source=SOURCE)


def test_non_finite_input_is_rejected() -> None:
    vectors = random_vectors(50, 16, seed=8)
    vectors[3, 4] = np.nan
    with pytest.raises(ReducerError, match="NaN"):
        PcaReducer.fit(vectors, dim=4, source=SOURCE)


def test_recovers_planted_low_rank_structure() -> None:
    rng = np.random.default_rng(9)
    rank, width = 6, 64
    basis, _ = np.linalg.qr(rng.normal(size=(width, rank)))  # orthonormal columns
    latent = rng.normal(size=(1_000, rank)) * np.array([10.0, 8.0, 6.0, 4.0, 3.0, 2.0])
    vectors = latent @ basis.T + 5.0 + rng.normal(scale=0.01, size=(1_000, width))

    reducer = PcaReducer.fit(vectors, dim=rank, source=SOURCE)
    assert reducer.explained_variance_ratio.sum() > 0.999
    # Every planted direction must lie inside the fitted subspace (cosine of principal angles ~ 1).
    fitted = reducer.components.astype(np.float64)
    singular_values = np.linalg.svd(fitted @ basis, compute_uv=False)
    np.testing.assert_allclose(singular_values, 1.0, atol=1e-3)


def test_whitening_equalises_component_variance() -> None:
    rng = np.random.default_rng(10)
    vectors = rng.normal(size=(2_000, 32)) * np.geomspace(20.0, 0.5, 32)
    plain = PcaReducer.fit(vectors, dim=8, source=SOURCE).transform(vectors)
    whitened = PcaReducer.fit(vectors, dim=8, source=SOURCE, whiten=True).transform(vectors)
    # Unwhitened, energy falls off with the component's variance; whitened, each carries ~1/dim of it.
    plain_energy = np.mean(plain**2, axis=0)
    assert plain_energy[0] > 3 * plain_energy[-1]
    np.testing.assert_allclose(np.mean(whitened**2, axis=0), 1 / 8, atol=0.03)


def test_whitening_rank_deficient_data_is_rejected() -> None:
    vectors = random_vectors(100, 3, seed=11) @ np.random.default_rng(12).normal(size=(3, 16))
    with pytest.raises(ReducerError, match="only 3 directions"):
        PcaReducer.fit(vectors, dim=5, source=SOURCE, whiten=True)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    width=st.integers(2, 48),
    extra_samples=st.integers(1, 60),
    whiten=st.booleans(),
    data=st.data(),
)
def test_fit_transform_save_load_properties(
    seed: int, width: int, extra_samples: int, whiten: bool, data: st.DataObject
) -> None:
    dim = data.draw(st.integers(1, width), label="dim")
    vectors = random_vectors(dim + extra_samples, width, seed) * 3.0 + 1.0
    reducer = PcaReducer.fit(vectors, dim=dim, source=SOURCE, whiten=whiten)
    projected = reducer.transform(vectors)

    assert projected.shape == (len(vectors), dim)
    assert projected.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(projected, axis=1), 1.0, atol=1e-4)
    assert np.all(np.diff(reducer.explained_variance_ratio) <= 1e-12)
    with tempfile.TemporaryDirectory() as directory:
        reducer.save(Path(directory))
        loaded = PcaReducer.load(Path(directory))
    assert loaded.version == reducer.version
    np.testing.assert_array_equal(loaded.transform(vectors), projected)
