"""The GPU path on CPU: pinned non-blocking copies, overlapped batches, the compile flag, length buckets."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import torch

from encoders import batching
from encoders.batching import compiled, length_sorted_batches, run_overlapped, to_device
from encoders.images import encoder as image_module
from encoders.images.encoder import ImageEncoder
from encoders.text import TextEncoder
from tests.unit.encoders.images.test_image_encoder import photos, write_folder

TITLES = ["Apple iPhone 13 128GB Midnight", "sony", "", "Kingston FURY Beast 16GB (2x8GB) DDR4 3200MHz CL16",
          "USB-C cable", "lg ldf6920bb fully integrated dishwasher"]


@pytest.fixture()
def pinning_recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Pinning needs a driver; here it is the identity, and each pinned shape is recorded."""
    pinned: list[tuple[int, ...]] = []

    def fake_pin(self: torch.Tensor) -> torch.Tensor:
        pinned.append(tuple(self.shape))
        return self

    monkeypatch.setattr(torch.Tensor, "pin_memory", fake_pin)
    return pinned


def test_text_vectors_are_the_same_through_the_pinned_non_blocking_path(
    packaged_encoder: TextEncoder, monkeypatch: pytest.MonkeyPatch, pinning_recorded: list[tuple[int, ...]]
) -> None:
    plain = packaged_encoder.encode(TITLES)
    assert pinning_recorded == []  # CPU: no pinning by default
    monkeypatch.setattr("encoders.text.to_device", functools.partial(to_device, pinned=True))
    monkeypatch.setattr(packaged_encoder, "batch_size", 4)
    np.testing.assert_allclose(packaged_encoder.encode(TITLES), plain, atol=1e-6)
    assert len(pinning_recorded) == 4  # ids and mask of each of the two batches


def test_image_vectors_are_the_same_through_the_pinned_non_blocking_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinning_recorded: list[tuple[int, ...]]
) -> None:
    encoder = ImageEncoder.load(write_folder(tmp_path / "vit"), device="cpu", batch_size=2)
    images = photos(5)
    plain = encoder.encode(images)
    monkeypatch.setattr(image_module, "to_device", functools.partial(to_device, pinned=True))
    np.testing.assert_allclose(encoder.encode(images), plain, atol=1e-6)
    assert pinning_recorded == [(2, 3, 32, 32), (2, 3, 32, 32), (1, 3, 32, 32)]


def test_each_batch_is_fetched_after_the_next_one_is_queued() -> None:
    events: list[str] = []

    class Queued:
        def __init__(self, rows: np.ndarray) -> None:
            self.rows = rows

        def cpu(self) -> torch.Tensor:
            events.append(f"fetch {self.rows[0]}")
            return torch.tensor(self.rows, dtype=torch.float32)[:, None].repeat(1, 2)

    def launch(rows: np.ndarray) -> Queued:
        events.append(f"launch {rows[0]}")
        return Queued(rows)

    out = np.zeros((3, 2), dtype=np.float32)
    run_overlapped([np.array([2, 0]), np.array([1])], launch, out)  # type: ignore[arg-type]
    assert events == ["launch 2", "launch 1", "fetch 2", "fetch 1"]
    np.testing.assert_array_equal(out[:, 0], [0, 1, 2])  # each row got its own result


def test_compile_is_refused_on_cpu_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="compile_model=True needs a CUDA device") as text_error:
        TextEncoder(device="cpu", compile_model=True)
    assert "\n" not in str(text_error.value)
    with pytest.raises(ValueError, match="compile_model=True needs a CUDA device"):
        ImageEncoder.load(write_folder(tmp_path / "vit"), device="cpu", compile_model=True)


def test_compile_on_cuda_goes_through_torch_compile(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []

    def fake_compile(function: object, *, dynamic: bool) -> str:
        calls.append(dynamic)
        return "compiled"

    monkeypatch.setattr(batching.torch, "compile", fake_compile)
    assert compiled(len, torch.device("cuda"), enabled=True, dynamic=True) == "compiled"
    assert compiled(len, torch.device("cuda"), enabled=False, dynamic=True) is len
    assert calls == [True]


def test_batches_are_bucketed_by_length_longest_first() -> None:
    rng = np.random.default_rng(0)
    token_ids = [[1] * int(length) for length in rng.integers(1, 60, size=100)]
    batches = length_sorted_batches(token_ids, 16)
    lengths = [[len(token_ids[row]) for row in rows] for rows in batches]
    assert sorted(np.concatenate(batches).tolist()) == list(range(100))  # every row exactly once
    assert all(max(later) <= min(earlier) for earlier, later in zip(lengths, lengths[1:], strict=False))
    padded = sum(max(widths) * len(widths) for widths in lengths)
    chunks = [token_ids[start : start + 16] for start in range(0, 100, 16)]
    unsorted = sum(max(len(ids) for ids in chunk) * len(chunk) for chunk in chunks)
    assert padded < 0.7 * unsorted  # sorting removes most of the padding
