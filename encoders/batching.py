"""Batches to unit vectors: length-sorted batches, padding, mean pooling, and the trip to the device.

``TextEncoder`` and contrastive fine-tuning both use the first three, so training sees exactly the
vectors serving computes; the text and image encoders share the device helpers (autocast, pinned
non-blocking copies, overlapped batches, optional ``torch.compile``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import torch


def length_sorted_batches(token_ids: list[list[int]], batch_size: int) -> list[np.ndarray]:
    """Row indices grouped by similar length, longest first, so batches carry few pad tokens.

    Longest first also means an out-of-memory error shows up on the first batch, not the last.
    """
    lengths = np.fromiter((len(ids) for ids in token_ids), dtype=np.int64, count=len(token_ids))
    order = np.argsort(-lengths, kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def pad_batch(token_ids: list[list[int]], pad_token_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` for a batch, right-padded to its longest row."""
    width = max(len(ids) for ids in token_ids)
    input_ids = np.full((len(token_ids), width), pad_token_id, dtype=np.int64)
    attention_mask = np.zeros((len(token_ids), width), dtype=np.int64)
    for row, ids in enumerate(token_ids):
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
    return torch.from_numpy(input_ids), torch.from_numpy(attention_mask)


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The mean of each row's hidden states over its real tokens (pad tokens left out)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    token_counts = mask.sum(dim=1).clamp(min=1.0)
    return (hidden * mask).sum(dim=1) / token_counts


def autocast(device: torch.device) -> AbstractContextManager[object]:
    """bf16 (fp16 where bf16 is missing) on CUDA; CPU stays fp32, where autocast is slower, not faster."""
    if device.type != "cuda":
        return nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast(device_type="cuda", dtype=dtype)


def to_device(tensor: torch.Tensor, device: torch.device, *, pinned: bool | None = None) -> torch.Tensor:
    """``tensor`` on ``device``; on CUDA through pinned host memory with a non-blocking copy.

    The copy then overlaps the kernels already queued, and only the result's trip back waits.
    ``pinned`` defaults to "device is CUDA" (pinning needs a driver; on CPU this is a no-op).
    """
    if pinned is None:
        pinned = device.type == "cuda"
    if not pinned:
        return tensor.to(device)
    host = tensor if tensor.is_pinned() else tensor.pin_memory()
    return host.to(device, non_blocking=True)


def host_buffer(shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """An empty host tensor to fill in place: pinned when bound for CUDA, so its copy needs no staging."""
    return torch.empty(shape, dtype=dtype, pin_memory=device.type == "cuda")


def run_overlapped(
    batches: Iterable[np.ndarray], launch: Callable[[np.ndarray], torch.Tensor], out: np.ndarray
) -> np.ndarray:
    """``out[rows] = launch(rows)`` for each batch, fetching batch i's result only after batch i+1 is queued.

    ``launch`` prepares a batch on the host and queues its work on the device; on CUDA the host
    then prepares the next batch while the device computes. One copy back per batch.
    """
    pending: tuple[np.ndarray, torch.Tensor] | None = None
    for rows in batches:
        result = launch(rows)
        if pending is not None:
            out[pending[0]] = pending[1].cpu().numpy()
        pending = (rows, result)
    if pending is not None:
        out[pending[0]] = pending[1].cpu().numpy()
    return out


def compiled(
    function: Callable[..., Any], device: torch.device, *, enabled: bool, dynamic: bool | None
) -> Callable[..., Any]:
    """``torch.compile(function)`` when ``enabled``: CUDA only, refused on CPU with one line.

    On CPU Inductor would spend minutes of a shared core compiling for little gain, so it is
    refused instead of silently ignored. ``dynamic=True`` for inputs whose shapes vary batch to batch
    (token widths), so each new width does not recompile; ``None`` lets torch decide after a change.
    """
    if not enabled:
        return function
    if device.type != "cuda":
        raise ValueError(f"compile_model=True needs a CUDA device, got {device}; leave it off on CPU")
    return torch.compile(function, dynamic=dynamic)
