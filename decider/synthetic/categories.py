"""The product categories of the synthetic marketplace and how each one is drawn and titled."""

from __future__ import annotations

from collections.abc import Mapping

STORAGE = "Storage Drives"
PHONES = "Mobile Phones"
TVS = "Televisions"
HEADPHONES = "Headphones"
LAPTOPS = "Laptops"
ACCESSORIES = "Phone Accessories"
KITCHEN = "Kitchen Appliances"
GROCERY = "Grocery & Household"
CLOTHING = "Clothing & Shoes"

# Share of fresh products per category while the category still has unused products.
CATEGORY_WEIGHTS: Mapping[str, float] = {
    STORAGE: 0.12,
    PHONES: 0.11,
    ACCESSORIES: 0.08,
    TVS: 0.10,
    HEADPHONES: 0.08,
    LAPTOPS: 0.10,
    KITCHEN: 0.09,
    GROCERY: 0.13,
    CLOTHING: 0.19,
}

# Title segments in the order a plain listing writes them; missing axes are skipped.
TITLE_TEMPLATES: Mapping[str, tuple[str, ...]] = {
    STORAGE: ("brand", "family", "capacity", "noun", "colour", "model"),
    PHONES: ("brand", "family", "capacity", "colour", "noun", "model"),
    ACCESSORIES: ("brand", "family", "capacity", "noun", "device", "colour", "pack", "model"),
    TVS: ("brand", "model", "size", "family", "series", "noun"),
    HEADPHONES: ("brand", "family", "series", "noun", "colour", "model"),
    LAPTOPS: ("brand", "family", "noun", "ram", "ssd", "colour", "model"),
    KITCHEN: ("brand", "family", "series", "noun", "capacity", "colour", "model"),
    GROCERY: ("brand", "family", "noun", "size", "capacity", "pack", "model"),
    CLOTHING: ("brand", "family", "noun", "colour", "size", "waist", "leg", "model"),
}

# How often a seller puts the model number in the title (grocery titles rarely carry the EAN).
MODEL_IN_TITLE_RATE: Mapping[str, float] = {
    STORAGE: 0.7,
    PHONES: 0.3,
    ACCESSORIES: 0.35,
    TVS: 0.8,
    HEADPHONES: 0.5,
    LAPTOPS: 0.6,
    KITCHEN: 0.6,
    GROCERY: 0.05,
    CLOTHING: 0.4,
}
