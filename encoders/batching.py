"""Token ids to unit vectors: length-sorted batches, padding and mean pooling.

``TextEncoder`` and contrastive fine-tuning both use these, so training sees exactly the
vectors serving computes.
"""

from __future__ import annotations

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
