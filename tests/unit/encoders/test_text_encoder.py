"""TextEncoder against the bundled all-MiniLM-L6-v2 weights, on CPU (fp32) so results are exact."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from encoders.errors import EncoderError
from encoders.text import TextEncoder, default_text_model_path, pick_device

TITLES = [
    "HDD 3.5 4TB Seagate IronWolf Pro NAS ST4000NE001",
    "lg ldf6920bb fully integrated dishwasher",
    "",
    "Apple iPhone 13 128GB Midnight",
    "speck seethru clear hard shell case for macbook air mbaclrsee thin and sleek protective case "
    "access to all ports 2-piece snap on clear finish, compatible with every 13 inch model since 2010 "
    "and shipped in recyclable packaging with a two year warranty from the manufacturer",
    "USB-C cable",
    "Samsung 980 PRO 1TB PCIe 4.0 NVMe M.2 SSD (MZ-V8P1T0BW) – heatsink edition",
    "sony",
    "Kingston FURY Beast 16GB (2x8GB) DDR4 3200MHz CL16 KF432C16BBK2/16",
]


@pytest.fixture(scope="module")
def encoder(packaged_encoder: TextEncoder) -> TextEncoder:
    return packaged_encoder


@pytest.fixture(scope="module")
def small_batch_encoder() -> TextEncoder:
    return TextEncoder(device="cpu", batch_size=2)


@pytest.fixture(scope="module")
def title_embeddings(encoder: TextEncoder) -> np.ndarray:
    return encoder.encode(TITLES)


def test_default_model_is_minilm(encoder: TextEncoder) -> None:
    assert (default_text_model_path() / "config.json").is_file()
    assert encoder.name == "all-MiniLM-L6-v2"
    assert encoder.dim == 384
    assert encoder.device == torch.device("cpu")


def test_embeddings_are_unit_float32_rows(title_embeddings: np.ndarray) -> None:
    assert title_embeddings.shape == (len(TITLES), 384)
    assert title_embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(title_embeddings, axis=1), 1.0, atol=1e-5)


def test_rows_follow_input_order_despite_length_sorting(encoder: TextEncoder, title_embeddings: np.ndarray) -> None:
    one_at_a_time = np.vstack([encoder.encode([title]) for title in TITLES])
    np.testing.assert_allclose(title_embeddings, one_at_a_time, atol=1e-5)
    # Different titles must give different rows, or the order check above proves nothing.
    assert np.abs(title_embeddings[0] - title_embeddings[1]).max() > 0.1


@settings(max_examples=8, deadline=None)
@given(order=st.permutations(range(len(TITLES))))
def test_permuting_inputs_permutes_rows(encoder: TextEncoder, title_embeddings: np.ndarray, order: list[int]) -> None:
    permuted = encoder.encode([TITLES[index] for index in order])
    np.testing.assert_allclose(permuted, title_embeddings[order], atol=1e-5)


def test_batch_size_does_not_change_results(small_batch_encoder: TextEncoder, title_embeddings: np.ndarray) -> None:
    np.testing.assert_allclose(small_batch_encoder.encode(TITLES), title_embeddings, atol=1e-5)


def test_empty_input_gives_empty_matrix(encoder: TextEncoder) -> None:
    empty = encoder.encode([])
    assert empty.shape == (0, 384)
    assert empty.dtype == np.float32


def test_matches_sentence_transformers(encoder: TextEncoder, title_embeddings: np.ndarray) -> None:
    from sentence_transformers import SentenceTransformer

    reference_model = SentenceTransformer(str(encoder.model_path), device="cpu")
    reference_model.max_seq_length = encoder.max_length
    reference = reference_model.encode(TITLES, normalize_embeddings=True, convert_to_numpy=True)
    cosines = np.sum(reference * title_embeddings, axis=1) / np.linalg.norm(reference, axis=1)
    assert cosines.min() > 0.999, cosines


def test_single_string_is_rejected(encoder: TextEncoder) -> None:
    with pytest.raises(TypeError, match="single str"):
        encoder.encode("a title")  # type: ignore[arg-type]


def test_non_string_item_is_rejected(encoder: TextEncoder) -> None:
    with pytest.raises(TypeError, match=r"texts\[1\] is int"):
        encoder.encode(["a title", 7])  # type: ignore[list-item]


def test_missing_model_path_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(EncoderError, match="no-such-model.*does not exist"):
        TextEncoder(missing, device="cpu")


def test_folder_without_config_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(EncoderError, match="no config.json"):
        TextEncoder(tmp_path, device="cpu")


def test_cuda_without_gpu_is_an_encoder_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(EncoderError, match="CUDA is not available"):
        pick_device("cuda")
    with pytest.raises(EncoderError, match="CUDA is not available"):
        TextEncoder(device="cuda")


def test_auto_device_falls_back_to_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("auto") == torch.device("cpu")


def test_unknown_device_is_rejected() -> None:
    with pytest.raises(EncoderError, match="unknown device 'gpu0'"):
        pick_device("gpu0")


def test_invalid_batch_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        TextEncoder(device="cpu", batch_size=0)


def test_version_is_stable_across_loads(encoder: TextEncoder, small_batch_encoder: TextEncoder) -> None:
    assert encoder.version == small_batch_encoder.version
    assert encoder.version.startswith("all-MiniLM-L6-v2@")


def test_version_changes_with_config(encoder: TextEncoder, tmp_path: Path) -> None:
    variant = tmp_path / "all-MiniLM-L6-v2"
    shutil.copytree(encoder.model_path, variant, ignore=shutil.ignore_patterns("*.safetensors", "*.bin"))
    weights = next(encoder.model_path.glob("*.safetensors"))
    (variant / weights.name).symlink_to(weights)
    config = variant / "config.json"
    config.write_text(config.read_text().replace('"layer_norm_eps": 1e-12', '"layer_norm_eps": 1e-11'))

    reloaded = TextEncoder(variant, device="cpu")

    assert reloaded.name == encoder.name
    assert reloaded.version != encoder.version
