"""Listing photos: fetching, perceptual hashes and the image encoder (timm ViT)."""
