"""The masked autoencoder (He et al., 2021) around a timm ViT: random patch masking, a light decoder, pixel loss.

The encoder is the very ``VisionTransformer`` that :class:`encoders.images.encoder.ImageEncoder`
serves, so its state dict is saved as is. Only the visible 25 % of the patches go through the
encoder, which is what makes MAE cheap enough to pretrain on a CPU.
"""

from __future__ import annotations

import numpy as np
import torch
from timm.models.vision_transformer import Block, VisionTransformer
from torch import nn

from encoders.errors import EncoderError

# Encoder presets: small trains in minutes on a CPU; base is ViT-B/16 at 224 for a GPU.
ARCHITECTURES: dict[str, dict[str, object]] = {
    "small": {"img_size": 128, "patch_size": 16, "embed_dim": 192, "depth": 6, "num_heads": 3},
    "base": {"timm_model": "vit_base_patch16_224", "img_size": 224},
}
# Decoder presets (width, blocks, heads): MAE's decoder is far lighter than its encoder.
DECODERS: dict[str, tuple[int, int, int]] = {"small": (128, 2, 4), "base": (256, 4, 8)}


class MaskedAutoencoder(nn.Module):
    """``forward(images)`` -> (loss, prediction, mask); the loss is the MSE on masked patches only."""

    def __init__(
        self,
        encoder: VisionTransformer,
        *,
        decoder_dim: int,
        decoder_depth: int,
        decoder_heads: int,
        mask_ratio: float = 0.75,
    ) -> None:
        super().__init__()
        _check_encoder(encoder)
        if not 0.0 < mask_ratio < 1.0:
            raise ValueError(f"mask_ratio must be between 0 and 1, got {mask_ratio}")
        self.encoder = encoder
        self.mask_ratio = mask_ratio
        self.patch_size = int(encoder.patch_embed.patch_size[0])
        grid = tuple(int(side) for side in encoder.patch_embed.grid_size)
        # Fixed 2-d sin-cos positions (MAE): nothing to learn, and they carry over to serving unchanged.
        with torch.no_grad():
            encoder.pos_embed.copy_(sincos_positions(encoder.embed_dim, grid))
        encoder.pos_embed.requires_grad_(False)
        self.decoder_embed = nn.Linear(encoder.embed_dim, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.register_buffer("decoder_pos_embed", sincos_positions(decoder_dim, grid), persistent=False)
        self.decoder_blocks = nn.ModuleList(
            Block(decoder_dim, decoder_heads, mlp_ratio=4.0, qkv_bias=True) for _ in range(decoder_depth)
        )
        self.decoder_norm = nn.LayerNorm(decoder_dim)
        self.decoder_pred = nn.Linear(decoder_dim, self.patch_size**2 * 3)
        self._init_decoder()

    def forward(
        self, images: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        latent, mask, restore = self.encode_visible(images, generator)
        prediction = self.decode(latent, restore)
        return masked_patch_loss(patchify(images, self.patch_size), prediction, mask), prediction, mask

    def encode_visible(
        self, images: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """CLS + the kept patches through the encoder; the (B, N) mask is 1 where a patch was hidden."""
        vit = self.encoder
        patches = vit.patch_embed(images) + vit.pos_embed[:, 1:]
        kept, mask, restore = random_masking(patches, self.mask_ratio, generator)
        cls = (vit.cls_token + vit.pos_embed[:, :1]).expand(kept.shape[0], -1, -1)
        tokens = vit.norm_pre(torch.cat([cls, kept], dim=1))
        return vit.norm(vit.blocks(tokens)), mask, restore

    def decode(self, latent: torch.Tensor, restore: torch.Tensor) -> torch.Tensor:
        """Pixels of every patch, (B, N, patch_size² · 3), from the visible tokens and mask tokens."""
        tokens = self.decoder_embed(latent)
        batch, visible = tokens.shape[0], tokens.shape[1] - 1
        hidden = self.mask_token.expand(batch, restore.shape[1] - visible, -1)
        patches = torch.cat([tokens[:, 1:], hidden], dim=1)
        patches = torch.gather(patches, 1, restore.unsqueeze(-1).expand(-1, -1, tokens.shape[2]))
        tokens = torch.cat([tokens[:, :1], patches], dim=1) + self.decoder_pos_embed
        for block in self.decoder_blocks:
            tokens = block(tokens)
        return self.decoder_pred(self.decoder_norm(tokens))[:, 1:]

    def _init_decoder(self) -> None:
        nn.init.normal_(self.mask_token, std=0.02)
        for module in (self.decoder_embed, self.decoder_pred, *self.decoder_blocks.modules()):
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)


def kept_patches(num_patches: int, mask_ratio: float) -> int:
    """How many patches the encoder sees: MAE's ``int(N · (1 - ratio))``, at least one."""
    return max(1, int(num_patches * (1.0 - mask_ratio)))


def random_masking(
    patches: torch.Tensor, mask_ratio: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-sample shuffle, keep the first ``kept_patches``: (kept tokens, mask with 1 = hidden, restore order)."""
    batch, count, width = patches.shape
    keep = kept_patches(count, mask_ratio)
    # Noise drawn on the CPU generator, so a seed gives the same masks on any device.
    noise = torch.rand(batch, count, generator=generator).to(patches.device)
    shuffle = noise.argsort(dim=1)
    restore = shuffle.argsort(dim=1)
    kept = torch.gather(patches, 1, shuffle[:, :keep].unsqueeze(-1).expand(-1, -1, width))
    mask = torch.ones(batch, count, device=patches.device)
    mask[:, :keep] = 0
    return kept, torch.gather(mask, 1, restore), restore


def patchify(images: torch.Tensor, patch_size: int) -> torch.Tensor:
    """(B, 3, H, W) -> (B, N, patch_size² · 3), patches in row-major order like the ViT's patch embedding."""
    batch, channels, height, width = images.shape
    rows, cols = height // patch_size, width // patch_size
    grid = images.reshape(batch, channels, rows, patch_size, cols, patch_size)
    return grid.permute(0, 2, 4, 3, 5, 1).reshape(batch, rows * cols, patch_size**2 * channels)


def masked_patch_loss(target: torch.Tensor, prediction: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """MSE against per-patch normalised pixels (MAE's norm_pix_loss), averaged over hidden patches only."""
    mean = target.mean(dim=-1, keepdim=True)
    variance = target.var(dim=-1, keepdim=True)
    normalised = (target - mean) / (variance + 1e-6).sqrt()
    per_patch = (prediction.float() - normalised).pow(2).mean(dim=-1)
    return (per_patch * mask).sum() / mask.sum()


def sincos_positions(width: int, grid: tuple[int, int]) -> torch.Tensor:
    """(1, 1 + rows·cols, width) fixed 2-d sine-cosine positions, a zero row first for the CLS token."""
    if width % 4:
        raise EncoderError(f"sin-cos positions need a width divisible by 4, got {width}")
    rows, cols = grid
    grid_y, grid_x = np.meshgrid(np.arange(rows, dtype=np.float64), np.arange(cols, dtype=np.float64), indexing="ij")
    frequencies = 1.0 / 10000 ** (np.arange(width // 4, dtype=np.float64) / (width / 4))

    def encode(positions: np.ndarray) -> np.ndarray:
        angles = positions.reshape(-1)[:, None] * frequencies[None, :]
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

    table = np.concatenate([encode(grid_y), encode(grid_x)], axis=1)
    table = np.concatenate([np.zeros((1, width)), table], axis=0)
    return torch.from_numpy(table).float().unsqueeze(0)


def _check_encoder(encoder: VisionTransformer) -> None:
    if encoder.cls_token is None or encoder.num_prefix_tokens != 1 or encoder.no_embed_class:
        raise EncoderError("MAE pretraining needs a ViT with one class token whose position is in pos_embed")
    if encoder.pos_embed is None or getattr(encoder, "dynamic_img_size", False):
        raise EncoderError("MAE pretraining needs a ViT with fixed-size absolute position embeddings")
