"""The free-text description a seller may add to a listing: the product, its values and some blurb."""

from __future__ import annotations

import random

from decider.synthetic.categories import (
    ACCESSORIES,
    CLOTHING,
    GROCERY,
    HEADPHONES,
    KITCHEN,
    LAPTOPS,
    PHONES,
    STORAGE,
    TVS,
)
from decider.synthetic.products import DrawnProduct
from decider.synthetic.spellings import render


def describe(rng: random.Random, product: DrawnProduct) -> str:
    line = product.line
    facts = ". ".join(f"{_AXIS_LABELS[axis.name]}: {render(axis, option)}" for axis, option in product.options())
    sentences = [
        f"{line.brand} {line.family} {line.noun}".replace("  ", " ").strip(),
        facts,
        rng.choice(_CATEGORY_BLURBS[line.category]),
    ]
    if rng.random() < 0.5:
        sentences.append(rng.choice(_SELLER_LINES))
    return ". ".join(s for s in sentences if s) + "."


_AXIS_LABELS = {
    "capacity": "Capacity",
    "size": "Size",
    "colour": "Colour",
    "series": "Model",
    "ram": "Memory",
    "ssd": "Storage",
    "pack": "Pack size",
    "waist": "Waist",
    "leg": "Leg",
    "device": "Compatible with",
}
# fmt: off
_CATEGORY_BLURBS = {
    STORAGE: ("Reliable storage for everyday computing", "Backed by the manufacturer's limited warranty",
              "Fast, quiet and energy efficient"),
    ACCESSORIES: ("Raised edges protect screen and camera", "Precise cutouts for all ports and buttons",
                  "Compatible with wireless charging"),
    PHONES: ("Dual SIM with eSIM support", "Includes USB-C cable, charger not included",
             "Latest software with security updates"),
    TVS: ("Supports HDR10 and HLG", "Built-in Wi-Fi and Bluetooth with voice control",
          "Wall mountable, VESA compatible"),
    HEADPHONES: ("Up to 30 hours of battery life", "Comfortable fit for all-day listening",
                 "Hands-free calls with built-in microphones"),
    LAPTOPS: ("Windows 11 Home pre-installed", "Full HD display with slim bezels", "Wi-Fi 6 and USB-C charging"),
    KITCHEN: ("Easy to clean, dishwasher-safe parts", "Two-year manufacturer guarantee",
              "Compact design for any kitchen"),
    GROCERY: ("Store in a cool, dry place", "Recyclable packaging", "Great value multipack"),
    CLOTHING: ("Machine washable at 30 degrees", "Regular fit, true to size", "Cotton-rich fabric for comfort"),
}
# fmt: on
_SELLER_LINES = (
    "Dispatched from our UK warehouse within 24 hours",
    "30-day no-quibble returns",
    "Genuine product sourced from the official distributor",
    "Please check the model number before ordering",
)
