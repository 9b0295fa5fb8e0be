"""The contrastive objective: a symmetric InfoNCE (MultipleNegativesRanking) loss on duplicate pairs.

all-MiniLM-L6-v2 was trained to put paraphrases together; product matching also needs the
opposite: "WD40EFZX 4TB" and "WD60EFZX 6TB" read alike but must land apart. Each anchor must pick
its own duplicate over every other pair's listing in the batch and over its mined hard negatives
(texts labeled *not* a duplicate of it), left picking right and right picking left.

Embeddings are computed exactly as :class:`encoders.text.TextEncoder` computes them (same
tokenizer truncation, mean pooling over real tokens, L2 norm).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import numpy as np
import torch
import torch.nn.functional as F
from transformers import PreTrainedModel, PreTrainedTokenizerBase

# Reusing TextEncoder's own batching and pooling guarantees training sees the vectors serving sees.
from encoders.batching import length_sorted_batches, mean_pool, pad_batch
from encoders.training.config import FinetuneConfig
from encoders.training.pairs import PreparedPairs
from encoders.training.steps import Step

# Rows per forward pass inside one step: length-sorted chunks carry fewer pad tokens than one
# batch padded to its longest text, which matters on CPU where every padded token costs.
_FORWARD_CHUNK_ROWS = 32


def contrastive_loss(
    anchors: torch.Tensor,
    candidates: torch.Tensor,
    *,
    temperature: float,
    same_product: torch.Tensor | None = None,
) -> torch.Tensor:
    """InfoNCE of unit ``anchors`` (n, d) against ``candidates`` (m >= n, d).

    Row i's positive is ``candidates[i]``; every other candidate is a negative unless
    ``same_product[i, j]`` is True (another listing of the same product: a false negative, left out
    of the softmax). The positive itself is always kept.
    """
    logits = anchors @ candidates.T / temperature
    targets = torch.arange(anchors.shape[0], device=anchors.device)
    if same_product is not None:
        excluded = same_product.clone()
        excluded[targets, targets] = False
        logits = logits.masked_fill(excluded, float("-inf"))
    return F.cross_entropy(logits, targets)


class ContrastiveObjective:
    """Computes a step's symmetric loss, encoding each distinct text of the step once."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        data: PreparedPairs,
        config: FinetuneConfig,
        device: torch.device,
    ) -> None:
        self._model = model
        self._device = device
        self._temperature = config.temperature
        self._products = data.products
        if tokenizer.pad_token_id is None:
            raise ValueError("the base model's tokenizer defines no pad token; batching needs one")
        self._pad_token_id = int(tokenizer.pad_token_id)
        # Tokenised once, with TextEncoder's truncation, so steps only pad and run the model.
        self._token_ids: list[list[int]] = tokenizer(
            data.texts,
            truncation=True,
            max_length=config.max_length,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]

    def __call__(self, step: Step) -> torch.Tensor:
        texts = np.unique(np.concatenate([step.lefts, step.rights, step.left_negatives, step.right_negatives]))
        embeddings = self._embed(texts)

        def rows(text_ids: np.ndarray) -> torch.Tensor:
            return embeddings[torch.from_numpy(np.searchsorted(texts, text_ids)).to(self._device)]

        left_candidates = np.concatenate([step.rights, step.left_negatives])
        right_candidates = np.concatenate([step.lefts, step.right_negatives])
        left_to_right = contrastive_loss(
            rows(step.lefts),
            rows(left_candidates),
            temperature=self._temperature,
            same_product=self._same_product(step.lefts, left_candidates),
        )
        right_to_left = contrastive_loss(
            rows(step.rights),
            rows(right_candidates),
            temperature=self._temperature,
            same_product=self._same_product(step.rights, right_candidates),
        )
        return (left_to_right + right_to_left) / 2

    def _embed(self, text_ids: np.ndarray) -> torch.Tensor:
        """Unit vectors for ``text_ids`` in order, with gradients, pooled as TextEncoder pools."""
        token_ids = [self._token_ids[i] for i in text_ids]
        parts: list[torch.Tensor] = []
        row_order: list[np.ndarray] = []
        for chunk in length_sorted_batches(token_ids, _FORWARD_CHUNK_ROWS):
            input_ids, attention_mask = pad_batch([token_ids[row] for row in chunk], self._pad_token_id)
            input_ids, attention_mask = input_ids.to(self._device), attention_mask.to(self._device)
            with _training_autocast(self._device):
                hidden = self._model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            # Pool, normalise and score in fp32, as TextEncoder does.
            parts.append(F.normalize(mean_pool(hidden.float(), attention_mask), p=2, dim=1))
            row_order.append(chunk)
        restore = torch.from_numpy(np.argsort(np.concatenate(row_order))).to(self._device)
        return torch.cat(parts)[restore]

    def _same_product(self, anchors: np.ndarray, candidates: np.ndarray) -> torch.Tensor:
        mask = self._products[anchors][:, None] == self._products[candidates][None, :]
        return torch.from_numpy(mask).to(self._device)


def _training_autocast(device: torch.device) -> AbstractContextManager[object]:
    # bf16 only: fp16 training would need a gradient scaler, and fp32 is the safe fallback.
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return nullcontext()
