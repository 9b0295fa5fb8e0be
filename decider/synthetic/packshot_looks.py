"""What a generated product's photo shows: its package shape, colours, texts and marks.

A ``Look`` is decided from the product alone (and the catalog's seed), so every photo of one product
agrees, and two products of one line share shape, background and, without a colour axis, colour:
they differ in the label text (capacity, size, model), in their colour when that is the varied axis,
and in a few small marks drawn per product.
"""

from __future__ import annotations

import colorsys
import random
import re
from dataclasses import dataclass

from decider.synthetic.catalog import SyntheticProduct
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
from decider.synthetic.product_lines import CATALOGUE

RGB = tuple[int, int, int]

# Colour words as they appear in colour names ("Midnight Blue", "Black Titanium"); the last known word wins.
_COLOUR_WORDS: dict[str, RGB] = {
    "black": (28, 28, 32), "obsidian": (30, 32, 38), "onyx": (24, 24, 26), "carbon": (40, 40, 44),
    "white": (238, 238, 232), "snow": (246, 246, 246), "milk": (242, 240, 230), "porcelain": (236, 234, 226),
    "grey": (128, 128, 134), "gray": (128, 128, 134), "graphite": (72, 74, 80), "charcoal": (58, 60, 64),
    "silver": (192, 194, 198), "platinum": (214, 214, 210), "chrome": (200, 204, 210), "steel": (170, 172, 176),
    "titanium": (152, 148, 140), "gunmetal": (84, 88, 94), "inox": (180, 182, 184), "slate": (96, 110, 128),
    "blue": (40, 92, 190), "navy": (28, 38, 92), "denim": (64, 94, 140), "indigo": (58, 60, 140),
    "sapphire": (30, 70, 160), "ultramarine": (40, 50, 170), "stonewash": (110, 140, 180), "rinse": (40, 52, 90),
    "teal": (0, 124, 128), "sea": (40, 140, 160), "aqua": (100, 200, 200), "mint": (160, 224, 190),
    "green": (40, 140, 72), "emerald": (20, 140, 90), "forest": (34, 90, 50), "jade": (60, 160, 120),
    "sage": (150, 170, 130), "khaki": (170, 160, 110), "pistachio": (180, 210, 140), "aloe": (160, 200, 160),
    "red": (200, 32, 44), "burgundy": (110, 20, 40), "oxblood": (100, 24, 24), "candy": (220, 40, 70),
    "pink": (240, 150, 180), "rose": (228, 150, 160), "coral": (250, 128, 114), "peony": (230, 130, 170),
    "magenta": (190, 40, 120), "purple": (120, 60, 160), "violet": (130, 80, 190), "lilac": (190, 160, 220),
    "lavender": (200, 180, 230), "yellow": (240, 210, 40), "lemongrass": (220, 220, 100), "gold": (212, 175, 55),
    "mango": (250, 180, 60), "amber": (240, 170, 30), "orange": (240, 130, 30), "copper": (184, 115, 51),
    "beige": (220, 200, 160), "cream": (245, 235, 200), "sand": (214, 196, 160), "wheat": (226, 206, 160),
    "brown": (110, 70, 40), "chestnut": (130, 70, 40), "cocoa": (100, 66, 50), "caramel": (190, 130, 70),
    "hazel": (150, 110, 60), "clay": (180, 110, 80), "truffle": (60, 44, 40), "clear": (222, 232, 238),
    "transparent": (222, 232, 238), "starlight": (240, 230, 210), "midnight": (30, 36, 60),
}
_DARKER = {"dark", "deep", "midnight", "space", "phantom", "eclipse", "abyss", "infinite", "true", "matte"}
_LIGHTER = {"light", "pastel", "ice", "icy", "sky", "frost", "frosted", "pale", "cloud", "fog", "misty", "snowflake"}

# Package shapes: the noun (or family) words that decide one, first match wins; else the category's shape.
_SHAPE_WORDS: tuple[tuple[str, str], ...] = (
    ("memory card|microsd|sdxc|flash drive", "card"),
    ("power bank|portable ssd|portable external|external hard", "drive"),
    ("case", "case"),
    ("protector|charger|adapter", "box"),
    ("cans?\\b", "can"),
    ("liquid|gel|shampoo|ketchup|bleach|milk|conditioner|spread|bottle|drink", "bottle"),
    ("washing machine|dishwasher", "cube"),
    ("trainer|shoe|boot", "shoe"),
    ("jeans|pants|boxer", "trousers"),
)
_CATEGORY_SHAPES = {
    STORAGE: "drive", PHONES: "phone", ACCESSORIES: "box", TVS: "tv", HEADPHONES: "headphones",
    LAPTOPS: "laptop", KITCHEN: "appliance", GROCERY: "box", CLOTHING: "shirt",
}
MARK_KINDS = ("dot", "stripe", "star", "ring")


@dataclass(frozen=True)
class Mark:
    """A small decoration at (x, y), fractions of the package's box; size is a fraction of the canvas."""

    kind: str
    x: float
    y: float
    size: float
    colour: RGB


@dataclass(frozen=True)
class Look:
    shape: str
    body: RGB
    accent: RGB
    background: RGB
    brand: str
    label: tuple[str, ...]  # short lines under the brand: the family, then the values that set this product apart
    marks: tuple[Mark, ...]


def look_of(product: SyntheticProduct, seed: int) -> Look:
    """The product's look: deterministic from (seed, product); colours never depend on the seed."""
    line = CATALOGUE[product.line_index]
    line_rng = random.Random(f"packshot-line:{product.line}")
    colour_name = product.attributes.get("colour")
    if colour_name:
        body, accent = colours_named(colour_name)
    else:
        body = _drawn_colour(line_rng)
        accent = _drawn_colour(random.Random(f"packshot-brand:{product.brand}"))
    tint = line_rng.randint(0, 2)
    background: RGB = (248 - 6 * (tint == 0), 248 - 6 * (tint == 1), 248 - 6 * (tint == 2))  # a faint studio tint
    product_rng = random.Random(f"packshot-marks:{seed}:{product.cluster_id}")
    return Look(
        shape=shape_of(product.category, f"{line.noun} {line.family}"),
        body=body,
        accent=accent,
        background=background,
        brand=product.brand,
        label=_label(line.family, product.attributes),
        marks=_marks(product_rng, body, accent),
    )


def shape_of(category: str, words: str) -> str:
    lowered = words.lower()
    for pattern, shape in _SHAPE_WORDS:
        if re.search(pattern, lowered):
            return shape
    return _CATEGORY_SHAPES.get(category, "box")


def colours_named(name: str) -> tuple[RGB, RGB]:
    """(body, accent) of a colour name: "Beige/Black" is two-tone; an unknown name gets a stable drawn colour."""
    parts = [part.strip() for part in name.replace("(PRODUCT)", "").split("/")]
    if parts[0].lower().startswith("triple "):
        parts = [parts[0][7:]]
    body = _colour_of(parts[0])
    accent = _colour_of(parts[1]) if len(parts) > 1 else _scaled(body, 0.55 if sum(body) > 240 else 1.6)
    return body, accent


def _colour_of(name: str) -> RGB:
    words = re.findall(r"[a-z]+", name.lower())
    known = [_COLOUR_WORDS[word] for word in words if word in _COLOUR_WORDS]
    rng = random.Random(f"packshot-colour:{name}")
    colour = known[-1] if known else _drawn_colour(rng)
    if _DARKER & set(words):
        colour = _scaled(colour, 0.6)
    if _LIGHTER & set(words):
        colour = _mixed(colour, (255, 255, 255), 0.45)
    # Two names for one hue ("Navy", "Navy Blue") still differ a little, as their photos would.
    return tuple(min(255, max(0, c + rng.randint(-10, 10))) for c in colour)  # type: ignore[return-value]


def _drawn_colour(rng: random.Random) -> RGB:
    hue = rng.random()
    saturation = rng.uniform(0.35, 0.85)
    value = rng.uniform(0.35, 0.9)
    return _hsv(hue, saturation, value)


def _hsv(hue: float, saturation: float, value: float) -> RGB:
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def _scaled(colour: RGB, factor: float) -> RGB:
    return tuple(min(255, round(c * factor)) for c in colour)  # type: ignore[return-value]


def _mixed(colour: RGB, other: RGB, weight: float) -> RGB:
    return tuple(round(a * (1 - weight) + b * weight) for a, b in zip(colour, other, strict=True))  # type: ignore[return-value]


def _label(family: str, attributes: dict[str, str]) -> tuple[str, ...]:
    values = " ".join(value for axis, value in attributes.items() if axis != "colour")
    return tuple(text for text in (family, values) if text)


def _marks(rng: random.Random, body: RGB, accent: RGB) -> tuple[Mark, ...]:
    palette = [accent, _mixed(body, (255, 255, 255), 0.6), _scaled(body, 0.5)]
    return tuple(
        Mark(rng.choice(MARK_KINDS), rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9), rng.uniform(0.03, 0.07),
             rng.choice(palette))
        for _ in range(rng.randint(2, 4))
    )
