"""A synthetic marketplace catalog with known duplicates and hard near-miss products.

Real benchmarks are small and their labels are noisy; a generator gives any amount of data with
exact truth and controllable difficulty. Products come from a catalogue of real-world product
lines (drives, phones, TVs, headphones, laptops, kitchen appliances, packaged groceries,
clothing and shoes): each line has axes (capacity, size, colour, series) whose values are
written into the title and encoded into the model number the way manufacturers do it.

* A product's first listing is written plainly; its duplicates (other sellers) differ by unit
  formats, abbreviations, reordering, punctuation, casing, typos, seller boilerplate, a dropped
  or added model number and price jitter. ``SyntheticCatalog.perturbations`` says which.
* A near-miss product is the same line with one axis moved to another value (usually the
  neighbouring capacity or size, which also moves the model number: WD40EFZX vs WD60EFZX). It is
  a different product with its own cluster id, and its plain title differs from its sibling's
  only in that value and the model number.

Everything is drawn from one ``random.Random(seed)``, so a seed gives the same catalog on every
run and platform.

Usage: ``python -m decider.synthetic --products 1000 --seed 0 --out data/synthetic``.
"""

from __future__ import annotations

import math
import random
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

from decider.datasets.labeled import LabeledPair, write_dataset
from encoders.product_groups import group_roots

VariantKind = Literal["capacity", "size", "colour", "model"]

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

CURRENCY = "GBP"
FIRST_LISTING_AT = datetime(2024, 3, 1, tzinfo=UTC)
MAX_SECONDS_BETWEEN_LISTINGS = 90
EXTRA_LISTINGS_WEIGHTS = {1: 0.6, 2: 0.3, 3: 0.1}  # duplicates per duplicated product
PRICE_JITTER = 0.10


# --- the product catalogue -------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str | int | float
    code: str  # how the value appears inside the model number
    price_factor: float = 1.0


@dataclass(frozen=True)
class Axis:
    name: str  # the title segment it fills: capacity, size, colour, series, ram, ssd, pack, waist, leg
    kind: VariantKind
    unit: str  # a key of _FORMATTERS: how values are written
    options: tuple[Option, ...]
    label: str = ""  # the counted noun of a "count" axis ("Tea Bags")


@dataclass(frozen=True)
class ProductLine:
    category: str
    brand: str
    family: str
    noun: str
    model: str  # str.format pattern over axis codes, {serial} and {ean}
    axes: tuple[Axis, ...]
    price: float  # for the first option of every axis

    @property
    def size(self) -> int:
        return math.prod(len(axis.options) for axis in self.axes)

    def combo(self, index: int) -> tuple[int, ...]:
        """The option index on each axis of the ``index``-th product of the line (mixed radix)."""
        picks = []
        for axis in reversed(self.axes):
            index, pick = divmod(index, len(axis.options))
            picks.append(pick)
        return tuple(reversed(picks))

    def index(self, combo: Sequence[int]) -> int:
        index = 0
        for axis, pick in zip(self.axes, combo, strict=True):
            index = index * len(axis.options) + pick
        return index


def _growth(values: Sequence[float], exponent: float) -> list[float]:
    return [(value / values[0]) ** exponent for value in values]


def _numeric_axis(
    name: str,
    kind: VariantKind,
    unit: str,
    values: Sequence[float],
    code: Callable[[Any], str],
    exponent: float,
    label: str = "",
) -> Axis:
    options = tuple(Option(v, code(v), f) for v, f in zip(values, _growth(values, exponent), strict=True))
    return Axis(name, kind, unit, options, label)


def storage(*gigabytes: int, code: Callable[[int], str] = str) -> Axis:
    return _numeric_axis("capacity", "capacity", "storage", gigabytes, code, 0.75)


def ram(*gigabytes: int) -> Axis:
    return _numeric_axis("ram", "capacity", "ram", gigabytes, str, 0.35)


def ssd(*gigabytes: int) -> Axis:
    return _numeric_axis("ssd", "capacity", "ssd", gigabytes, str, 0.25)


def screen(*inches: int) -> Axis:
    return _numeric_axis("size", "size", "inches", inches, str, 1.9)


def volume(*millilitres: int, code: Callable[[int], str] = str) -> Axis:
    return _numeric_axis("capacity", "capacity", "volume", millilitres, code, 0.85)


def weight(*grams: int) -> Axis:
    return _numeric_axis("capacity", "capacity", "weight", grams, str, 0.85)


def load(*kilograms: int) -> Axis:
    return _numeric_axis("capacity", "capacity", "load", kilograms, str, 0.6)


def count(label: str, *numbers: int) -> Axis:
    return _numeric_axis("pack", "size", "count", numbers, str, 0.85, label)


def series(*names: str, step: float = 0.08, code: Callable[[str], str] = lambda n: re.sub(r"[-\s]", "", n)) -> Axis:
    options = tuple(Option(n, code(n), 1 + step * i) for i, n in enumerate(names))
    return Axis("series", "model", "plain", options)


def devices(*names: str) -> Axis:
    """The phone an accessory fits: a neighbouring model is the classic wrong match."""
    return Axis("device", "model", "device", tuple(Option(n, re.sub(r"\W", "", n)) for n in names))


def milliamp_hours(*values: int) -> Axis:
    return _numeric_axis("capacity", "capacity", "mah", values, str, 0.6)


def watts(*values: int) -> Axis:
    return _numeric_axis("capacity", "capacity", "watts", values, str, 0.5)


def colours(names: Mapping[str, str] | Sequence[str]) -> Axis:
    """Colours with their model-number codes; a plain list gets the initials as codes."""
    coded = names if isinstance(names, Mapping) else {n: "".join(w[0] for w in n.split()).upper() for n in names}
    return Axis("colour", "colour", "colour", tuple(Option(n, c) for n, c in coded.items()))


def shoe_sizes(smallest: float = 3, largest: float = 12, half_sizes: bool = True) -> Axis:
    step = 0.5 if half_sizes else 1.0
    values = [smallest + step * i for i in range(int((largest - smallest) / step) + 1)]
    return _numeric_axis("size", "size", "shoe", values, lambda v: f"{v:g}", 0.0)


def apparel_sizes(*sizes: str) -> Axis:
    return Axis("size", "size", "apparel", tuple(Option(s, s) for s in sizes or ("XS", "S", "M", "L", "XL", "XXL")))


def nappy_sizes(*sizes: int) -> Axis:
    return _numeric_axis("size", "size", "nappy", sizes, str, 0.2)


def waists(*inches: int) -> Axis:
    return _numeric_axis("waist", "size", "waist", inches, str, 0.0)


def legs(*inches: int) -> Axis:
    return _numeric_axis("leg", "size", "leg", inches, str, 0.0)


# Colourways of trainers: primary/secondary from one palette, coded the way Nike style codes are.
_SHOE_PALETTE = {
    "Black": "BK",
    "White": "WT",
    "Beige": "BG",
    "Green": "GN",
    "Blue": "BL",
    "Purple": "PR",
    "Red": "RD",
    "Yellow": "YL",
    "Orange": "OR",
    "Grey": "GY",
}


def colourways(palette: Mapping[str, str] = _SHOE_PALETTE, letters: bool = False) -> Axis:
    """Primary/secondary colourways, coded by digits (Nike-style -100) or letters (NB-style BKWT)."""
    options = []
    for first, (primary, primary_letters) in enumerate(palette.items()):
        for second, (secondary, secondary_letters) in enumerate(palette.items()):
            name = f"Triple {primary}" if primary == secondary else f"{primary}/{secondary}"
            code = primary_letters + secondary_letters if letters else f"{first}{second}{(first + second) % 10}"
            options.append(Option(name, code))
    return Axis("colour", "colour", "colour", tuple(options))


_APPAREL_COLOURS = {
    "Black": "001",
    "White": "100",
    "Navy": "410",
    "Grey Heather": "063",
    "Red": "600",
    "Royal Blue": "480",
    "Forest Green": "341",
    "Burgundy": "677",
    "Khaki": "247",
    "Pink": "690",
    "Sky Blue": "436",
    "Charcoal": "010",
}
_JEAN_WASHES = {
    "Stonewash": "0193",
    "Rinse": "0101",
    "Black": "0165",
    "Medium Stonewash": "0114",
    "Dark Stonewash": "0162",
    "Light Indigo": "0115",
    "Grey": "0306",
}


def _wd_hdd(gb: int) -> str:
    return f"{gb // 1000}0"  # 4 TB -> WD40..., 14 TB -> WD140...


def _samsung_capacity(gb: int) -> str:
    return f"{gb // 1000}T0" if gb >= 1000 else str(gb)  # MZ-77E1T0B, MZ-77E500B


def _wd_ssd(gb: int) -> str:
    return f"{gb // 10}T" if gb >= 1000 else f"{gb}G"  # WDS100T3B0A, WDS500G3B0A


def _sandisk_capacity(gb: int) -> str:
    return f"{gb // 1000}T00" if gb >= 1000 else f"{gb:03d}G"  # SDSQUAB-1T00, SDSQUAB-064G


def _tb(gb: int) -> str:
    return str(gb // 1000)


def _samsung_phone_storage(gb: int) -> str:
    return {128: "D", 256: "G", 512: "C", 1000: "F"}[gb]


def _line(category: str, brand: str, family: str, noun: str, model: str, *axes: Axis, price: float) -> ProductLine:
    return ProductLine(category, brand, family, noun, model, axes, price)


# fmt: off
def _storage_lines() -> list[ProductLine]:
    s, nas, desk = STORAGE, '3.5" NAS Internal Hard Drive', '3.5" Desktop Internal Hard Drive'
    hdd_tb = lambda *tb: tuple(t * 1000 for t in tb)  # noqa: E731 - a local shorthand for the table
    return [
        _line(s, "WD", "Red Plus", nas, "WD{capacity}EFZX", storage(*hdd_tb(2, 3, 4, 6, 8, 10, 12, 14), code=_wd_hdd),
              price=79),
        _line(s, "WD", "Red Pro", nas, "WD{capacity}1KFGX",
              storage(*hdd_tb(2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22), code=_wd_hdd), price=109),
        _line(s, "WD", "Purple", '3.5" Surveillance Hard Drive', "WD{capacity}PURZ",
              storage(*hdd_tb(1, 2, 3, 4, 6, 8), code=_wd_hdd), price=52),
        _line(s, "WD", "Blue", desk, "WD{capacity}EZAZ", storage(*hdd_tb(1, 2, 3, 4, 6, 8), code=_wd_hdd), price=42),
        _line(s, "WD", "Gold", '3.5" Enterprise Hard Drive', "WD{capacity}1FYYG",
              storage(*hdd_tb(1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20), code=_wd_hdd), price=99),
        _line(s, "Seagate", "IronWolf", nas, "ST{capacity}VN006", storage(*hdd_tb(1, 2, 3, 4, 6, 8, 10, 12)), price=59),
        _line(s, "Seagate", "IronWolf Pro", nas, "ST{capacity}NT001",
              storage(*hdd_tb(2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24)), price=99),
        _line(s, "Seagate", "BarraCuda", desk, "ST{capacity}DM008", storage(*hdd_tb(1, 2, 3, 4, 6, 8)), price=45),
        _line(s, "Seagate", "SkyHawk", '3.5" Surveillance Hard Drive', "ST{capacity}VX015",
              storage(*hdd_tb(1, 2, 3, 4, 6, 8)), price=49),
        _line(s, "Seagate", "Exos 7E10", '3.5" Enterprise Hard Drive', "ST{capacity}NM000B",
              storage(*hdd_tb(2, 4, 6, 8, 10)), price=89),
        _line(s, "Toshiba", "N300", nas, "HDWG4{capacity}0UZSVA",
              storage(*hdd_tb(4, 6, 8, 10, 12, 14, 16, 18), code=_tb), price=99),
        _line(s, "Toshiba", "P300", desk, "HDWD1{capacity}0UZSVA", storage(*hdd_tb(1, 2, 3, 4, 6), code=_tb), price=44),
        _line(s, "Toshiba", "X300", '3.5" Performance Internal Hard Drive', "HDWR4{capacity}0UZSVA",
              storage(*hdd_tb(4, 6, 8, 10, 12, 14, 16, 18), code=_tb), price=109),
        _line(s, "Samsung", "870 EVO", '2.5" SATA III Internal Solid State Drive', "MZ-77E{capacity}B/EU",
              storage(250, 500, 1000, 2000, 4000, code=_samsung_capacity), price=39),
        _line(s, "Samsung", "870 QVO", '2.5" SATA III Internal Solid State Drive', "MZ-77Q{capacity}BW",
              storage(1000, 2000, 4000, 8000, code=_samsung_capacity), price=69),
        _line(s, "Samsung", "980", "M.2 NVMe Internal Solid State Drive", "MZ-V8V{capacity}BW",
              storage(250, 500, 1000, code=_samsung_capacity), price=35),
        _line(s, "Samsung", "980 PRO", "PCIe 4.0 M.2 NVMe Internal Solid State Drive", "MZ-V8P{capacity}BW",
              storage(250, 500, 1000, 2000, code=_samsung_capacity), price=49),
        _line(s, "Samsung", "990 PRO", "PCIe 4.0 M.2 NVMe Internal Solid State Drive", "MZ-V9P{capacity}BW",
              storage(1000, 2000, 4000, code=_samsung_capacity), price=99),
        _line(s, "Samsung", "990 EVO", "PCIe 5.0 M.2 NVMe Internal Solid State Drive", "MZ-V9E{capacity}BW",
              storage(1000, 2000, code=_samsung_capacity), price=79),
        _line(s, "Crucial", "MX500", '2.5" SATA Internal SSD', "CT{capacity}MX500SSD1",
              storage(250, 500, 1000, 2000, 4000), price=32),
        _line(s, "Crucial", "P3", "PCIe 3.0 M.2 NVMe Internal SSD", "CT{capacity}P3SSD8",
              storage(500, 1000, 2000, 4000), price=33),
        _line(s, "Crucial", "P3 Plus", "PCIe 4.0 M.2 NVMe Internal SSD", "CT{capacity}P3PSSD8",
              storage(500, 1000, 2000, 4000), price=37),
        _line(s, "Crucial", "T500", "PCIe Gen4 NVMe M.2 Internal SSD", "CT{capacity}T500SSD8",
              storage(500, 1000, 2000), price=49),
        _line(s, "Crucial", "T700", "PCIe Gen5 NVMe M.2 Internal SSD", "CT{capacity}T700SSD3",
              storage(1000, 2000, 4000), price=139),
        _line(s, "Kingston", "A400", '2.5" SATA 3 Internal Solid State Drive', "SA400S37/{capacity}G",
              storage(120, 240, 480, 960, 1920), price=19),
        _line(s, "Kingston", "NV2", "PCIe 4.0 NVMe M.2 Internal SSD", "SNV2S/{capacity}G",
              storage(250, 500, 1000, 2000, 4000), price=25),
        _line(s, "WD", "Blue SA510", '2.5" SATA Internal Solid State Drive', "WDS{capacity}3B0A",
              storage(250, 500, 1000, 2000, code=_wd_ssd), price=30),
        _line(s, "WD", "Black SN850X", "PCIe Gen4 NVMe Internal Gaming SSD", "WDS{capacity}2X0E",
              storage(1000, 2000, 4000, code=_wd_ssd), price=79),
        _line(s, "WD", "Blue SN580", "PCIe Gen4 NVMe Internal SSD", "WDS{capacity}3B0E",
              storage(250, 500, 1000, 2000, code=_wd_ssd), price=29),
        _line(s, "SanDisk", "Ultra 3D", '2.5" SATA III Internal SSD', "SDSSDH3-{capacity}-G26",
              storage(250, 500, 1000, 2000, 4000, code=_sandisk_capacity), price=35),
        _line(s, "SanDisk", "Ultra", "microSDXC UHS-I Memory Card with Adapter", "SDSQUAB-{capacity}-GN6MA",
              storage(32, 64, 128, 256, 512, 1000, code=_sandisk_capacity), price=7),
        _line(s, "SanDisk", "Extreme", "microSDXC UHS-I A2 Memory Card", "SDSQXAV-{capacity}-GN6MA",
              storage(64, 128, 256, 512, 1000, code=_sandisk_capacity), price=12),
        _line(s, "SanDisk", "Extreme PRO", "SDXC UHS-I Memory Card", "SDSDXXD-{capacity}-GN4IN",
              storage(64, 128, 256, 512, 1000, code=_sandisk_capacity), price=16),
        _line(s, "Samsung", "EVO Plus", "microSDXC Memory Card with SD Adapter", "MB-MC{capacity}SA/EU",
              storage(64, 128, 256, 512), price=9),
        _line(s, "Samsung", "PRO Plus", "microSDXC Memory Card", "MB-MD{capacity}SA/EU", storage(128, 256, 512),
              price=17),
        _line(s, "SanDisk", "Ultra Flair", "USB 3.0 Flash Drive", "SDCZ73-{capacity}-G46",
              storage(16, 32, 64, 128, 256, 512, code=_sandisk_capacity), price=6),
        _line(s, "Kingston", "DataTraveler Exodia", "USB 3.2 Flash Drive", "DTX/{capacity}GB",
              storage(32, 64, 128, 256), price=5),
        _line(s, "Samsung", "T7", "Portable SSD USB 3.2 Gen 2", "MU-PC{capacity}{colour}/WW",
              storage(500, 1000, 2000, code=_samsung_capacity),
              colours({"Titan Grey": "T", "Indigo Blue": "H", "Metallic Red": "R"}), price=69),
        _line(s, "WD", "My Passport", "Portable External Hard Drive USB 3.0", "WDBYVG00{capacity}0{colour}-WESN",
              storage(1000, 2000, 4000, 5000, code=_tb),
              colours({"Black": "BBK", "Blue": "BBL", "Red": "RRD", "White": "WWT"}), price=49),
        _line(s, "Seagate", "Expansion Desktop", "External Hard Drive USB 3.0", "STKP{capacity}400",
              storage(*hdd_tb(4, 6, 8, 10, 12, 14, 16, 18, 20)), price=89),
        _line(s, "Seagate", "One Touch", "Portable External Hard Drive", "STKY{capacity}40{colour}",
              storage(1000, 2000, 4000, 5000),
              colours({"Black": "0", "Blue": "2", "Red": "3", "Silver": "4"}), price=55),
    ]


def _phone_lines() -> list[ProductLine]:
    p = PHONES
    apple = "M{serial}B/A"
    lines = [
        ("iPhone 12", (64, 128, 256), ("Black", "White", "Blue", "Green", "Purple"), 449),
        ("iPhone 12 mini", (64, 128, 256), ("Black", "White", "Blue", "Green"), 399),
        ("iPhone 13 Pro", (128, 256, 512, 1000), ("Graphite", "Gold", "Silver", "Sierra Blue", "Alpine Green"), 749),
        ("iPhone 13 Pro Max", (128, 256, 512, 1000), ("Graphite", "Gold", "Silver", "Sierra Blue", "Alpine Green"),
         849),
        ("iPhone 14 Pro Max", (128, 256, 512, 1000), ("Space Black", "Silver", "Gold", "Deep Purple"), 999),
        ("iPhone 16 Plus", (128, 256, 512), ("Black", "White", "Pink", "Teal", "Ultramarine"), 899),
        ("iPhone 16 Pro Max", (256, 512, 1000),
         ("Desert Titanium", "Natural Titanium", "White Titanium", "Black Titanium"), 1199),
        ("iPhone 13", (128, 256, 512), ("Midnight", "Starlight", "Blue", "Pink", "Green"), 549),
        ("iPhone 13 mini", (128, 256, 512), ("Midnight", "Starlight", "Blue", "Pink"), 499),
        ("iPhone 14", (128, 256, 512), ("Midnight", "Starlight", "Blue", "Purple", "Yellow"), 599),
        ("iPhone 14 Plus", (128, 256, 512), ("Midnight", "Starlight", "Blue", "Purple"), 699),
        ("iPhone 14 Pro", (128, 256, 512, 1000), ("Space Black", "Silver", "Gold", "Deep Purple"), 899),
        ("iPhone 15", (128, 256, 512), ("Black", "Blue", "Green", "Yellow", "Pink"), 699),
        ("iPhone 15 Plus", (128, 256, 512), ("Black", "Blue", "Green", "Yellow", "Pink"), 799),
        ("iPhone 15 Pro", (128, 256, 512, 1000),
         ("Natural Titanium", "Blue Titanium", "White Titanium", "Black Titanium"), 899),
        ("iPhone 15 Pro Max", (256, 512, 1000),
         ("Natural Titanium", "Blue Titanium", "White Titanium", "Black Titanium"), 1099),
        ("iPhone 16", (128, 256, 512), ("Black", "White", "Pink", "Teal", "Ultramarine"), 799),
        ("iPhone 16 Pro", (128, 256, 512, 1000),
         ("Desert Titanium", "Natural Titanium", "White Titanium", "Black Titanium"), 999),
        ("iPhone SE (3rd generation)", (64, 128, 256), ("Midnight", "Starlight", "(PRODUCT)RED"), 379),
    ]
    result = [_line(p, "Apple", name, "Unlocked", apple, storage(*caps), colours(cols), price=price) for name, caps,
              cols, price in lines]
    samsung = [
        ("Galaxy S22", "S901B", (128, 256),
         {"Phantom Black": "K", "Phantom White": "W", "Green": "G", "Pink Gold": "I"}, 449),
        ("Galaxy S22 Ultra", "S908B", (128, 256, 512),
         {"Phantom Black": "K", "Phantom White": "W", "Burgundy": "R", "Green": "G"}, 749),
        ("Galaxy S23", "S911B", (128, 256), {"Phantom Black": "K", "Cream": "E", "Green": "G", "Lavender": "L"}, 599),
        ("Galaxy S23+", "S916B", (256, 512), {"Phantom Black": "K", "Cream": "E", "Green": "G", "Lavender": "L"}, 699),
        ("Galaxy S23 Ultra", "S918B", (256, 512, 1000),
         {"Phantom Black": "K", "Cream": "E", "Green": "G", "Lavender": "L"}, 899),
        ("Galaxy S23 FE", "S711B", (128, 256), {"Graphite": "A", "Mint": "G", "Cream": "E", "Purple": "P"}, 449),
        ("Galaxy A54 5G", "A546B", (128, 256),
         {"Awesome Graphite": "K", "Awesome Violet": "L", "Awesome Lime": "G", "Awesome White": "W"}, 329),
        ("Galaxy Z Flip6", "F741B", (256, 512), {"Silver Shadow": "S", "Yellow": "Y", "Blue": "B", "Mint": "G"}, 949),
        ("Galaxy Z Fold6", "F956B", (256, 512, 1000), {"Silver Shadow": "S", "Pink": "P", "Navy": "B"}, 1599),
        ("Galaxy S24", "S921B", (128, 256, 512),
         {"Onyx Black": "K", "Marble Grey": "A", "Cobalt Violet": "V", "Amber Yellow": "Y"}, 699),
        ("Galaxy S24+", "S926B", (256, 512),
         {"Onyx Black": "K", "Marble Grey": "A", "Cobalt Violet": "V", "Amber Yellow": "Y"}, 899),
        ("Galaxy S24 Ultra", "S928B", (256, 512, 1000),
         {"Titanium Black": "K", "Titanium Gray": "T", "Titanium Violet": "V", "Titanium Yellow": "Y"}, 1099),
        ("Galaxy A15", "A155F", (128, 256), {"Black": "K", "Blue": "B", "Light Blue": "L", "Yellow": "Y"}, 159),
        ("Galaxy A25 5G", "A256B", (128, 256), {"Black": "K", "Blue": "B", "Light Blue": "L", "Yellow": "Y"}, 229),
        ("Galaxy A35 5G", "A356B", (128, 256), {"Awesome Iceblue": "B", "Awesome Lilac": "L", "Awesome Navy": "K"},
         299),
        ("Galaxy A55 5G", "A556B", (128, 256), {"Awesome Iceblue": "B", "Awesome Lilac": "L", "Awesome Navy": "K"},
         379),
        ("Galaxy Z Flip5", "F731B", (256, 512), {"Graphite": "A", "Cream": "E", "Lavender": "L", "Mint": "G"}, 849),
        ("Galaxy Z Fold5", "F946B", (256, 512, 1000), {"Phantom Black": "K", "Icy Blue": "B", "Cream": "E"}, 1499),
    ]
    for name, code, caps, cols, price in samsung:
        model = f"SM-{code}Z{{colour}}{{capacity}}EUB"
        result.append(_line(p, "Samsung", name, "Unlocked Smartphone", model,
                            storage(*caps, code=_samsung_phone_storage), colours(cols), price=price))
    others = [
        ("Google", "Pixel 7a", "GA03{serial}-GB", (128,), ("Charcoal", "Snow", "Sea", "Coral"), 349),
        ("Google", "Pixel 8", "GA04{serial}-GB", (128, 256), ("Obsidian", "Hazel", "Rose"), 549),
        ("Google", "Pixel 8a", "GA05{serial}-GB", (128, 256), ("Obsidian", "Porcelain", "Bay", "Aloe"), 449),
        ("Google", "Pixel 8 Pro", "GA04{serial}-GB", (128, 256, 512), ("Obsidian", "Porcelain", "Bay"), 799),
        ("Google", "Pixel 9", "GA05{serial}-GB", (128, 256), ("Obsidian", "Porcelain", "Wintergreen", "Peony"), 699),
        ("Google", "Pixel 9 Pro", "GA06{serial}-GB", (128, 256, 512),
         ("Obsidian", "Porcelain", "Hazel", "Rose Quartz"), 899),
        ("Xiaomi", "Redmi Note 13 Pro 5G", "MZB0{serial}EU", (256, 512),
         ("Midnight Black", "Aurora Purple", "Ocean Teal"), 299),
        ("Xiaomi", "14", "MZB0{serial}EN", (256, 512), ("Black", "White", "Jade Green"), 649),
        ("OnePlus", "12", "CPH{serial}", (256, 512), ("Silky Black", "Flowy Emerald"), 749),
        ("OnePlus", "Nord CE4 5G", "CPH{serial}", (128, 256), ("Dark Chrome", "Celadon Marble"), 299),
        ("Motorola", "moto g84 5G", "PAYM{serial}GB", (256,), ("Midnight Blue", "Marshmallow Blue", "Viva Magenta"),
         229),
        ("Motorola", "edge 40", "PAY4{serial}GB", (256,), ("Eclipse Black", "Nebula Green", "Lunar Blue"), 399),
        ("Nothing", "Phone (2)", "A065-{serial}", (128, 256, 512), ("Dark Grey", "White"), 579),
        ("Sony", "Xperia 10 V", "XQDC54C0{serial}", (128,), ("Black", "White", "Lavender", "Sage Green"), 349),
        ("Sony", "Xperia 1 V", "XQDQ54C0{serial}", (256,), ("Black", "Khaki Green", "Platinum Silver"), 1099),
        ("Google", "Pixel 7", "GA03{serial}-GB", (128, 256), ("Obsidian", "Snow", "Lemongrass"), 449),
        ("Google", "Pixel 9 Pro XL", "GA06{serial}-GB", (128, 256, 512, 1000),
         ("Obsidian", "Porcelain", "Hazel", "Rose Quartz"), 999),
        ("Xiaomi", "Redmi Note 13", "MZB0{serial}EU", (128, 256),
         ("Midnight Black", "Ice Blue", "Mint Green", "Ocean Sunset"), 179),
        ("Xiaomi", "13T Pro", "MZB0{serial}EU", (512, 1000), ("Black", "Meadow Green", "Alpine Blue"), 649),
        ("Honor", "Magic6 Pro", "BVL-N49-{serial}", (512,), ("Black", "Epi Green"), 1099),
        ("Honor", "90", "REA-NX9-{serial}", (256, 512), ("Midnight Black", "Emerald Green", "Diamond Silver"), 449),
        ("OPPO", "Reno10 5G", "CPH{serial}", (256,), ("Silvery Grey", "Ice Blue"), 399),
        ("Motorola", "razr 40 ultra", "PAX4{serial}GB", (256,), ("Infinite Black", "Glacier Blue", "Viva Magenta"),
         899),
        ("Nothing", "Phone (2a)", "A142-{serial}", (128, 256), ("Black", "White", "Milk"), 319),
        ("Fairphone", "5", "F5-{serial}", (256,), ("Matte Black", "Transparent Edition", "Sky Blue"), 649),
    ]
    for brand, name, model, caps, cols, price in others:
        noun = "Unlocked Android Smartphone"
        result.append(_line(p, brand, name, noun, model, storage(*caps), colours(cols), price=price))
    return result


_IPHONES = tuple(f"iPhone {m}" for m in (
    "13", "13 Pro", "13 Pro Max", "14", "14 Plus", "14 Pro", "14 Pro Max",
    "15", "15 Plus", "15 Pro", "15 Pro Max", "16", "16 Plus", "16 Pro", "16 Pro Max",
))
_GALAXIES = tuple(
    f"Galaxy {m}" for m in ("S23", "S23+", "S23 Ultra", "S24", "S24+", "S24 Ultra", "A15", "A25", "A35", "A55")
)
_PIXELS = tuple(f"Pixel {m}" for m in ("8", "8 Pro", "8a", "9", "9 Pro", "9 Pro XL"))
_ALL_PHONES = _IPHONES + _GALAXIES + _PIXELS


def _accessory_lines() -> list[ProductLine]:
    a = ACCESSORIES
    return [
        _line(a, "Spigen", "Ultra Hybrid", "Case", "ACS{serial}", devices(*_ALL_PHONES),
              colours(("Crystal Clear", "Matte Black", "Frost Clear")), price=12),
        _line(a, "Spigen", "Tough Armor", "Case", "ACS{serial}", devices(*_ALL_PHONES),
              colours(("Black", "Gunmetal", "Metal Slate")), price=16),
        _line(a, "Spigen", "Liquid Air", "Case", "ACS{serial}", devices(*_ALL_PHONES),
              colours(("Matte Black", "Navy Blue", "Abyss Green")), price=11),
        _line(a, "OtterBox", "Defender Series", "Rugged Case", "77-{serial}", devices(*_ALL_PHONES),
              colours(("Black", "Blue", "Purple")), price=39),
        _line(a, "OtterBox", "Symmetry Series", "Case with MagSafe", "77-{serial}", devices(*_IPHONES),
              colours(("Black", "Clear", "Pink")), price=34),
        _line(a, "ESR", "Classic Hybrid", "Case with HaloLock", "ESR{serial}", devices(*_ALL_PHONES),
              colours(("Clear", "Frosted Black")), price=13),
        _line(a, "UAG", "Monarch", "Rugged Case", "11{serial}", devices(*_ALL_PHONES),
              colours(("Black", "Carbon Fiber", "Kevlar Black")), price=49),
        _line(a, "Apple", "", "Silicone Case with MagSafe", "M{serial}ZM/A", devices(*_IPHONES),
              colours(("Black", "Storm Blue", "Clay", "Light Pink", "Guava", "Cypress")), price=49),
        _line(a, "Samsung", "", "Silicone Case", "EF-P{serial}TBEGWW", devices(*_GALAXIES),
              colours(("Black", "Lavender", "Mint", "Cream")), price=24),
        _line(a, "Spigen", "GLAS.tR EZ Fit", "Tempered Glass Screen Protector", "AGL{serial}", devices(*_ALL_PHONES),
              count("Pack", 1, 2), price=12),
        _line(a, "ESR", "", "Tempered Glass Screen Protector", "ESR{serial}", devices(*_ALL_PHONES),
              count("Pack", 2, 3), price=9),
        _line(a, "Belkin", "ScreenForce UltraGlass 2", "Screen Protector", "SFA{serial}",
              devices(*_IPHONES, *_GALAXIES), count("Pack", 1), price=29),
        _line(a, "Anker", "Nano", "USB-C Charger", "A{serial}", watts(20, 30, 45, 65),
              colours(("Black", "White", "Misty Blue", "Aurora White")), price=15),
        _line(a, "Apple", "", "USB-C Power Adapter", "M{serial}B/A", watts(20, 35, 70, 96), price=19),
        _line(a, "Anker", "PowerCore", "Portable Charger Power Bank", "A1{serial}",
              milliamp_hours(5000, 10000, 20000, 26800), colours(("Black", "White", "Blue")), price=19),
        _line(a, "INIU", "", "Portable Charger Power Bank USB-C", "BI-{serial}", milliamp_hours(10000, 20000, 27000),
              colours(("Black", "Blue", "Pink")), price=17),
    ]


def _tv_lines() -> list[ProductLine]:
    rows = [  # brand, family, noun, model pattern, sizes, series (older and cheaper first), price
        ("Samsung", "", "QLED 4K HDR Smart TV", "QE{size}{series}ATXXU", (43, 50, 55, 65, 75, 85),
         ("Q60C", "Q60D", "Q65C", "Q70C", "Q70D", "Q77C", "Q80C", "Q80D"), 449),
        ("Samsung", "Neo QLED", "4K HDR Smart TV", "QE{size}{series}ATXXU", (50, 55, 65, 75, 85),
         ("QN85C", "QN85D", "QN90C", "QN90D", "QN95C", "QN95D"), 999),
        ("Samsung", "Crystal UHD", "4K HDR Smart TV", "UE{size}{series}KXXU", (43, 50, 55, 58, 65, 70, 75, 85),
         ("AU7100", "BU8000", "CU7100", "CU8000", "DU7100", "DU8000", "DU9000"), 299),
        ("Samsung", "", "OLED 4K HDR Smart TV", "QE{size}{series}ATXXU", (55, 65, 77),
         ("S90C", "S90D", "S92C", "S95C", "S95D"), 1199),
        ("LG", "OLED evo", "4K Smart TV", "OLED{size}{series}6LA", (42, 48, 55, 65, 77, 83),
         ("A2", "B2", "B3", "B4", "C2", "C3", "C4", "G2", "G3", "G4"), 899),
        ("LG", "", "4K QNED MiniLED Smart TV", "{size}{series}6RE", (43, 50, 55, 65, 75, 86),
         ("QNED75", "QNED80", "QNED81", "QNED82", "QNED86", "QNED91"), 499),
        ("LG", "UHD", "4K LED Smart TV", "{size}{series}6LK", (43, 50, 55, 65, 75),
         ("UP75", "UQ75", "UR73", "UR78", "UR80", "UT73", "UT80"), 299),
        ("Sony", "BRAVIA", "4K HDR LED Google TV", "KD-{size}{series}", (43, 50, 55, 65, 75, 85),
         ("X72K", "X75K", "X75WL", "X80K", "X80L", "X81J", "X85J", "X85K", "X85L"), 549),
        ("Sony", "BRAVIA XR", "4K HDR Google TV", "XR-{size}{series}", (55, 65, 75, 77, 83),
         ("X90J", "X90K", "X90L", "X93L", "X95J", "X95K", "A80J", "A80K", "A80L", "A84K", "A95K", "A95L"), 999),
        ("TCL", "", "4K QLED Google TV", "{size}{series}K", (43, 50, 55, 65, 75, 85, 98),
         ("C635", "C645", "C735", "C745", "C805", "C835", "C845", "P635", "P735", "P755"), 279),
        ("Hisense", "", "4K UHD Smart TV", "{size}{series}TUK", (40, 43, 50, 55, 58, 65, 70, 75, 85, 100),
         ("A6BG", "A6K", "A6N", "A7GQ", "A7K", "A85K", "E7KQ", "U6K", "U7K", "U8K", "U8N"), 249),
        ("Philips", "Ambilight", "4K UHD Smart TV", "{size}{series}/12", (43, 50, 55, 65, 75),
         ("PUS7608", "PUS7808", "PUS8108", "PUS8508", "PUS8808", "PUS8908", "OLED707", "OLED807", "OLED808", "OLED908"),
         399),
        ("Panasonic", "", "4K HDR Smart TV", "TX-{size}{series}", (40, 43, 50, 55, 65),
         ("LX650B", "LX700B", "LZ800B", "LZ980B", "MX700B", "MX800B", "MX950B", "MZ1500B", "MZ2000B"), 349),
    ]
    return [
        _line(TVS, brand, family, noun, model, screen(*sizes), series(*names), price=price)
        for brand, family, noun, model, sizes, names, price in rows
    ]


def _headphone_lines() -> list[ProductLine]:
    h = HEADPHONES
    over_ear_nc = "Wireless Noise Cancelling Headphones"
    return [
        _line(h, "Sony", "", over_ear_nc, "{series}/{colour}", series("WH-1000XM4", "WH-1000XM5", step=0.25),
              colours({"Black": "B", "Silver": "S", "Midnight Blue": "L"}), price=229),
        _line(h, "Sony", "", "Truly Wireless Noise Cancelling Earbuds", "{series}/{colour}",
              series("WF-1000XM4", "WF-1000XM5", step=0.25),
              colours({"Black": "B", "Silver": "S"}), price=179),
        _line(h, "Sony", "", "Wireless Noise Cancelling Headphones", "{series}{colour}.CE7",
              series("WH-CH710N", "WH-CH720N"),
              colours({"Black": "B", "White": "W", "Blue": "L"}), price=79),
        _line(h, "Sony", "WF-C700N", "Wireless Noise Cancelling Earbuds", "WFC700N{colour}.CE7",
              colours({"Black": "B", "White": "W", "Lavender": "V", "Sage Green": "G"}), price=79),
        _line(h, "Bose", "QuietComfort Ultra", over_ear_nc, "880066-0{colour}00",
              colours({"Black": "1", "White Smoke": "2", "Sandstone": "3", "Lunar Blue": "4"}), price=399),
        _line(h, "Bose", "QuietComfort 45", over_ear_nc, "866724-0{colour}00",
              colours({"Black": "1", "White Smoke": "2", "Eclipse Grey": "3"}), price=249),
        _line(h, "Bose", "QuietComfort Ultra Earbuds", "Wireless Noise Cancelling Earbuds", "882826-0{colour}10",
              colours({"Black": "1", "White Smoke": "2", "Moonstone Blue": "3"}), price=249),
        _line(h, "Apple", "AirPods Max", "Wireless Over-Ear Headphones", "M{serial}ZM/A",
              colours(("Space Grey", "Silver", "Sky Blue", "Pink", "Green")), price=499),
        _line(h, "Apple", "", "with MagSafe Charging Case (USB-C)", "M{serial}ZM/A",
              series("AirPods (3rd generation)", "AirPods Pro (2nd generation)", step=0.4), price=169),
        _line(h, "Sennheiser", "Momentum 4 Wireless", "Adaptive Noise Cancelling Headphones", "50{colour}",
              colours({"Black": "9266", "White": "9267", "Denim": "9268", "Copper": "9269"}), price=249),
        _line(h, "Sennheiser", "", "Wireless Bluetooth Headphones", "{series}-{colour}",
              series("HD 350BT", "HD 450BT", "ACCENTUM"),
              colours({"Black": "BK", "White": "WH"}), price=69),
        _line(h, "JBL", "", "Wireless On-Ear Headphones", "JBLT{series}{colour}EU",
              series("Tune 510BT", "Tune 520BT", "Tune 720BT"),
              colours({"Black": "BLK", "White": "WHT", "Blue": "BLU", "Purple": "PUR"}), price=34),
        _line(h, "JBL", "", over_ear_nc, "JBL{series}{colour}",
              series("Tune 760NC", "Live 660NC", "Live 770NC", "Tour One M2"),
              colours({"Black": "BLK", "White": "WHT", "Blue": "BLU"}), price=79),
        _line(h, "Beats", "Studio Pro", over_ear_nc, "M{serial}ZM/A",
              colours(("Black", "Deep Brown", "Navy", "Sandstone")), price=299),
        _line(h, "Beats", "Solo 4", "Wireless On-Ear Headphones", "M{serial}ZM/A",
              colours(("Matte Black", "Slate Blue", "Cloud Pink")), price=169),
        _line(h, "Audio-Technica", "", "Professional Studio Monitor Headphones", "{series}{colour}",
              series("ATH-M20x", "ATH-M40x", "ATH-M50x", "ATH-M50xBT2", code=str),
              colours({"Black": "BK", "White": "WH"}), price=49),
        _line(h, "Marshall", "", "Wireless On-Ear Headphones", "{series}-{colour}", series("Major IV", "Major V"),
              colours({"Black": "1005773", "Brown": "1005774", "Cream": "1006834"}), price=99),
        _line(h, "Jabra", "", "True Wireless Earbuds", "100-99{serial}",
              series("Elite 4", "Elite 8 Active", "Elite 10", "Elite 85t"),
              colours(("Black", "Navy", "Caramel", "Cocoa")), price=79),
        _line(h, "Skullcandy", "Crusher Evo", "Wireless Over-Ear Headphones", "S6EVW-{colour}",
              colours({"True Black": "N740", "Chill Grey": "P759"}), price=119),
    ]


def _laptop_lines() -> list[ProductLine]:
    lp = LAPTOPS
    apple_colours = ("Midnight", "Starlight", "Space Grey", "Silver")
    rows = [
        ("Apple", "MacBook Air", '13.6" Laptop Apple M2 chip', "M{serial}B/A", (8, 16, 24), (256, 512, 1000, 2000),
         apple_colours, 899),
        ("Apple", "MacBook Air", '13.6" Laptop Apple M3 chip', "M{serial}B/A", (8, 16, 24), (256, 512, 1000, 2000),
         apple_colours, 1049),
        ("Apple", "MacBook Air", '15.3" Laptop Apple M3 chip', "M{serial}B/A", (8, 16, 24), (256, 512, 1000, 2000),
         apple_colours, 1249),
        ("Apple", "MacBook Pro", '14.2" Laptop Apple M3 chip', "M{serial}B/A", (8, 16, 24), (512, 1000, 2000),
         ("Space Grey", "Silver"), 1599),
        ("Apple", "MacBook Pro", '14.2" Laptop Apple M3 Pro chip', "M{serial}B/A", (18, 36), (512, 1000, 2000),
         ("Space Black", "Silver"), 1999),
        ("Lenovo", "IdeaPad Slim 3", '15.6" Laptop AMD Ryzen 5 7520U', "82XQ{serial}UK", (8, 16), (256, 512),
         ("Arctic Grey", "Abyss Blue"), 399),
        ("Lenovo", "IdeaPad Slim 5", '14" Laptop Intel Core i5-1335U', "82XD{serial}UK", (8, 16), (512, 1000),
         ("Cloud Grey", "Abyss Blue"), 599),
        ("Lenovo", "ThinkPad E14 Gen 5", '14" Laptop Intel Core i5-1335U', "21JK{serial}UK", (8, 16, 32),
         (256, 512, 1000), ("Graphite Black",), 749),
        ("Lenovo", "ThinkPad X1 Carbon Gen 11", '14" Laptop Intel Core i7-1355U', "21HM{serial}UK", (16, 32),
         (512, 1000, 2000), ("Deep Black",), 1599),
        ("Lenovo", "Legion 5 Gen 9", '16" Gaming Laptop Ryzen 7 RTX 4060', "83DG{serial}UK", (16, 32), (512, 1000),
         ("Luna Grey",), 1199),
        ("Dell", "XPS 13 9340", '13.4" Laptop Intel Core Ultra 7 155H', "XPS9340-{serial}", (16, 32),
         (512, 1000, 2000), ("Platinum", "Graphite"), 1299),
        ("Dell", "Inspiron 15 3530", '15.6" Laptop Intel Core i5-1334U', "N3530-{serial}", (8, 16), (256, 512, 1000),
         ("Carbon Black", "Platinum Silver"), 449),
        ("Dell", "Latitude 5440", '14" Business Laptop Intel Core i5-1345U', "N{serial}L5440", (8, 16, 32),
         (256, 512), ("Titan Grey",), 899),
        ("HP", "15s-fq5000", '15.6" Laptop Intel Core i5-1235U', "{serial}EA#ABU", (8, 16), (256, 512),
         ("Natural Silver", "Snowflake White"), 429),
        ("HP", "Pavilion 15-eg3000", '15.6" Laptop Intel Core i7-1355U', "{serial}EA#ABU", (8, 16), (512, 1000),
         ("Natural Silver", "Fog Blue"), 649),
        ("HP", "EliteBook 840 G10", '14" Business Laptop Intel Core i7-1355U', "{serial}ET#ABU", (16, 32),
         (512, 1000), ("Silver",), 1299),
        ("HP", "Envy x360 14", '14" 2-in-1 Laptop Intel Core Ultra 5', "{serial}EA#ABU", (16,), (512, 1000),
         ("Atmospheric Blue", "Natural Silver"), 849),
        ("ASUS", "Vivobook 15 X1504ZA", '15.6" Laptop Intel Core i5-1235U', "X1504ZA-{serial}W", (8, 16), (512, 1000),
         ("Quiet Blue", "Cool Silver"), 449),
        ("ASUS", "Zenbook 14 OLED UX3405", '14" Laptop Intel Core Ultra 7', "UX3405MA-{serial}W", (16, 32),
         (512, 1000), ("Ponder Blue", "Foggy Silver"), 999),
        ("ASUS", "ROG Strix G16", '16" Gaming Laptop Intel Core i7 RTX 4060', "G614JV-{serial}W", (16, 32),
         (512, 1000), ("Eclipse Gray",), 1299),
        ("ASUS", "TUF Gaming A15", '15.6" Gaming Laptop Ryzen 7 RTX 4050', "FA507NU-{serial}W", (8, 16), (512, 1000),
         ("Mecha Gray", "Jaeger Gray"), 849),
        ("Acer", "Aspire 5 A515-58M", '15.6" Laptop Intel Core i5-1335U', "NX.{serial}EK.001", (8, 16), (512, 1000),
         ("Steel Gray",), 499),
        ("Acer", "Swift Go 14", '14" OLED Laptop Intel Core Ultra 5', "NX.{serial}EK.002", (16, 32), (512, 1000),
         ("Pure Silver",), 799),
        ("Acer", "Nitro V 15", '15.6" Gaming Laptop Intel Core i5 RTX 4050', "NH.{serial}EK.003", (8, 16),
         (512, 1000), ("Obsidian Black",), 749),
        ("Microsoft", "Surface Laptop 5", '13.5" Touchscreen Laptop Intel Core i5', "R{serial}-00002", (8, 16),
         (256, 512), ("Platinum", "Matte Black", "Sage"), 899),
        ("Microsoft", "Surface Pro 9", '13" 2-in-1 Tablet Intel Core i5', "Q{serial}-00006", (8, 16), (128, 256, 512),
         ("Platinum", "Graphite", "Sapphire", "Forest"), 999),
    ]
    lines = []
    for brand, family, noun, model, rams, ssds, cols, price in rows:
        axes = [ram(*rams), ssd(*ssds)] + ([colours(cols)] if len(cols) > 1 else [])
        family_noun = noun if len(cols) > 1 else f"{noun} {cols[0]}"
        lines.append(_line(lp, brand, family, family_noun, model, *axes, price=price))
    return lines


def _kitchen_lines() -> list[ProductLine]:
    k = KITCHEN
    smeg = {"Black": "BL", "Cream": "CR", "Pastel Blue": "PB", "Red": "RD", "White": "WH", "Pastel Green": "PG"}
    return [
        _line(k, "Philips", "Airfryer", "Air Fryer", "{series}/{colour}",
              series("HD9200", "HD9252", "HD9270", "HD9280", "HD9650", "HD9860", step=0.2),
              colours({"Black": "90", "White": "00"}), price=89),
        _line(k, "Ninja", "Foodi", "Dual Zone Air Fryer", "{series}UK", series("AF300", "AF400", "AF451", step=0.15),
              price=159),
        _line(k, "Tefal", "Easy Fry", "Air Fryer", "{series}40", series("EY501", "EY701", "EY801", step=0.2), price=79),
        _line(k, "De'Longhi", "Dedica", "Pump Espresso Coffee Machine", "{series}.{colour}",
              series("EC685", "EC695", "EC885", step=0.2),
              colours({"Black": "BK", "Silver": "M", "Red": "R", "White": "W"}), price=149),
        _line(k, "De'Longhi", "Magnifica", "Bean to Cup Coffee Machine", "{series}.B",
              series("ECAM22.110", "ECAM290.61", "ECAM290.81", "ECAM320.60"), price=329),
        _line(k, "Nespresso", "Vertuo Pop", "Coffee Machine by Magimix", "11{colour}",
              colours({"Black": "729", "Mango Yellow": "730", "Coconut White": "731", "Aqua Mint": "732",
                       "Candy Pink": "733", "Spicy Red": "734"}),
              price=69),
        _line(k, "Nespresso", "Vertuo Next", "Coffee Machine by De'Longhi", "ENV120.{colour}",
              colours({"Black": "B", "Grey": "GY", "White": "W"}), price=99),
        _line(k, "KitchenAid", "Artisan", "Tilt-Head Stand Mixer", "5KSM{capacity}PS{colour}",
              volume(4300, 4800, code=lambda ml: {4300: "125", 4800: "175"}[ml]),
              colours({"Empire Red": "EER", "Onyx Black": "EOB", "Almond Cream": "EAC", "Candy Apple": "ECA",
                       "Ice Blue": "EIC", "Pistachio": "EPT", "Matte Black": "EBM", "Contour Silver": "ECU"}),
              price=449),
        _line(k, "KitchenAid", "Artisan", "Electric Kettle", "5KEK1565B{colour}", volume(1500),
              colours({"Empire Red": "ER", "Onyx Black": "OB", "Almond Cream": "AC", "Candy Apple": "CA"}), price=149),
        _line(k, "Smeg", "50's Style", "Electric Kettle", "KLF03{colour}UK", colours(smeg), price=139),
        _line(k, "Smeg", "50's Style", "2 Slice Toaster", "TSF01{colour}UK", colours(smeg), price=139),
        _line(k, "Smeg", "50's Style", "4 Slice Toaster", "TSF03{colour}UK", colours(smeg), price=189),
        _line(k, "Russell Hobbs", "Honeycomb", "Electric Kettle", "2605{colour}", volume(1700),
              colours({"White": "0", "Black": "1", "Grey": "2", "Cream": "3"}), price=39),
        _line(k, "Russell Hobbs", "Inspire", "Electric Kettle", "2436{colour}", volume(1700),
              colours({"Black": "1", "White": "0", "Grey": "2", "Red": "3"}), price=29),
        _line(k, "Breville", "Bold", "Electric Kettle", "VKT2{colour}", volume(1700),
              colours({"Black": "21", "White": "22", "Silver": "23", "Blue": "24"}), price=34),
        _line(k, "Dualit", "Classic", "Toaster", "DU{serial}", series("2 Slice", "4 Slice", step=0.35),
              colours(("Black", "Cream", "Chrome", "Pebble")), price=189),
        _line(k, "Dyson", "", "Cordless Vacuum Cleaner", "39{serial}-01",
              series("V8 Absolute", "V10 Absolute", "V11 Advanced", "V12 Detect Slim", "V15 Detect Absolute", step=0.2),
              price=299),
        _line(k, "Ninja", "", "Blender", "{series}UK", series("BN495", "BN610", "BN750", "BL642", step=0.2), price=69),
        _line(k, "Instant Pot", "Duo 7-in-1", "Electric Pressure Cooker", "IP-DUO{capacity}-UK",
              volume(3000, 5700, 8000, code=lambda ml: {3000: "30", 5700: "60", 8000: "80"}[ml]), price=79),
        _line(k, "Sage", "the Barista Express", "Espresso Machine", "SES875{colour}",
              colours({"Brushed Stainless Steel": "BSS", "Black Truffle": "BTR", "Sea Salt": "SST",
                       "Oyster Shell": "OST"}),
              price=599),
        _line(k, "Bosch", "Serie 4", "Freestanding Dishwasher", "SMS4HV{colour}33G",
              colours({"White": "W", "Silver Inox": "I"}), price=449),
        _line(k, "Bosch", "Serie 6", "Freestanding Washing Machine 1400rpm", "WGG24{capacity}09GB", load(8, 9, 10),
              price=549),
        _line(k, "Samsung", "Series 5", "Freestanding Washing Machine with ecobubble", "WW{capacity}0T534DAW",
              load(8, 9, 10, 11), price=429),
        _line(k, "Morphy Richards", "Evoke", "Pyramid Kettle", "10{colour}", volume(1500),
              colours({"Black": "0004", "White": "0005", "Stainless Steel": "0006", "Red": "0007"}), price=39),
    ]


def _grocery_lines() -> list[ProductLine]:
    g, ean = GROCERY, "{ean}"
    return [
        _line(g, "Ariel", "Original", "Washing Liquid Laundry Detergent", ean, count("Washes", 24, 40, 54, 70),
              price=7.5),
        _line(g, "Ariel", "All-in-1 Pods", "Washing Capsules", ean, count("Washes", 16, 31, 43, 57), price=6),
        _line(g, "Persil", "Bio", "Laundry Washing Liquid", ean, count("Washes", 24, 38, 53, 70), price=7),
        _line(g, "Persil", "Non Bio", "Laundry Washing Capsules", ean, count("Washes", 15, 26, 38, 50), price=6.5),
        _line(g, "Lenor", "Spring Awakening", "Fabric Conditioner", ean, count("Washes", 35, 48, 57, 70), price=4),
        _line(g, "Fairy", "Original", "Washing Up Liquid", ean, volume(320, 433, 654, 780, 1015), price=1.3),
        _line(g, "Fairy", "Platinum Plus", "All in One Dishwasher", ean, count("Tablets", 30, 50, 70, 90), price=9),
        _line(g, "Finish", "Quantum Ultimate", "Dishwasher", ean, count("Tablets", 30, 48, 60, 80), price=8),
        _line(g, "Domestos", "Original", "Thick Bleach", ean, volume(750, 1250, 2000), price=1.5),
        _line(g, "Coca-Cola", "Zero Sugar", "330ml Cans", ean, count("Pack", 6, 8, 12, 24), price=3.5),
        _line(g, "Coca-Cola", "Original Taste", "330ml Cans", ean, count("Pack", 6, 8, 12, 24), price=3.8),
        _line(g, "Diet Coke", "", "330ml Cans", ean, count("Pack", 6, 8, 12, 24), price=3.6),
        _line(g, "Pepsi", "Max No Sugar", "330ml Cans", ean, count("Pack", 6, 8, 12, 24), price=3.2),
        _line(g, "Red Bull", "", "Energy Drink 250ml Cans", ean, count("Pack", 4, 12, 24), price=4.5),
        _line(g, "Coca-Cola", "Zero Sugar", "Bottle", ean, volume(500, 1250, 1500, 2000), price=1.2),
        _line(g, "Nescafé", "Gold Blend", "Instant Coffee", ean, weight(100, 200, 300), price=4.5),
        _line(g, "Kenco", "Smooth", "Instant Coffee", ean, weight(100, 200, 300), price=4),
        _line(g, "Lavazza", "Qualità Rossa", "Coffee Beans", ean, weight(500, 1000), price=8),
        _line(g, "Lavazza", "Crema e Gusto", "Ground Coffee", ean, weight(250, 1000), price=3.5),
        _line(g, "Yorkshire Tea", "", "", ean, count("Tea Bags", 40, 80, 160, 240), price=1.8),
        _line(g, "PG Tips", "Original", "Pyramid", ean, count("Tea Bags", 40, 80, 160, 240), price=1.7),
        _line(g, "Twinings", "English Breakfast", "", ean, count("Tea Bags", 40, 80, 100), price=2.2),
        _line(g, "Barilla", "Spaghetti No.5", "Durum Wheat Pasta", ean, weight(500, 1000), price=1.1),
        _line(g, "Heinz", "", "Baked Beans in Tomato Sauce 415g", ean, count("Pack", 1, 4, 6, 12), price=1.2),
        _line(g, "Heinz", "", "Tomato Ketchup", ean, weight(460, 700, 910, 1200), price=2.2),
        _line(g, "Nutella", "", "Hazelnut Chocolate Spread", ean, weight(200, 350, 400, 750, 1000), price=2.2),
        _line(g, "Kellogg's", "Corn Flakes", "Breakfast Cereal", ean, weight(250, 450, 500, 720), price=1.6),
        _line(g, "Pampers", "Baby-Dry", "", ean, nappy_sizes(3, 4, 5, 6), count("Nappies", 42, 84, 126), price=9),
        _line(g, "Huggies", "Little Ones", "", ean, nappy_sizes(2, 3, 4, 5, 6), count("Nappies", 30, 60, 90), price=8),
        _line(g, "Andrex", "Classic Clean", "Toilet Tissue", ean, count("Rolls", 4, 9, 16, 24, 32), price=2.5),
        _line(g, "Cushelle", "Quilted", "Toilet Tissue", ean, count("Rolls", 9, 12, 24), price=4.5),
        _line(g, "Colgate", "Total Original", "Toothpaste", ean, volume(75, 100, 125), price=2.5),
        _line(g, "Dove", "Original", "Shower Gel", ean, volume(225, 450, 720), price=1.8),
        _line(g, "Head & Shoulders", "Classic Clean", "Anti-Dandruff Shampoo", ean, volume(250, 400, 500), price=3.2),
        _line(g, "Whiskas", "1+ Mixed Selection in Jelly", "Adult Cat Food Pouches 85g", ean,
              count("Pack", 12, 40, 80), price=4.5),
        _line(g, "Pedigree", "Dentastix", "Daily Dental Chews Medium Dog", ean, count("Sticks", 28, 56, 105), price=5),
        _line(g, "Tesco", "Finest", "Basmati Rice", ean, weight(500, 1000, 2000, 5000), price=1.4),
        _line(g, "Sainsbury's", "", "British Semi Skimmed Milk", ean, volume(568, 1136, 2272), price=0.7),
    ]


def _clothing_lines() -> list[ProductLine]:
    c = CLOTHING
    trainers = "Men's Trainers"
    shoes = [
        ("Nike", "Air Force 1 '07", trainers, "CW2288-{colour}", 109),
        ("Nike", "Air Max 90", trainers, "CN8490-{colour}", 129),
        ("Nike", "Dunk Low Retro", trainers, "DD1391-{colour}", 99),
        ("Nike", "Pegasus 40", "Men's Road Running Shoes", "DV3853-{colour}", 119),
        ("Nike", "Revolution 7", "Men's Running Shoes", "FB2207-{colour}", 54),
        ("Adidas", "Samba OG", "Trainers", "B75{colour}", 90),
        ("Adidas", "Gazelle", "Trainers", "BB5{colour}", 85),
        ("Adidas", "Stan Smith", "Trainers", "FX5{colour}", 85),
        ("Adidas", "Superstar", "Trainers", "EG4{colour}", 85),
        ("Adidas", "Ultraboost Light", "Running Shoes", "HQ6{colour}", 170),
        ("New Balance", "574", "Trainers", "ML574E{colour}", 85),
        ("New Balance", "550", "Trainers", "BB550{colour}", 110),
        ("New Balance", "9060", "Trainers", "U9060{colour}", 140),
        ("Converse", "Chuck Taylor All Star", "Hi Top Canvas Trainers", "M9{colour}C", 60),
        ("Converse", "Chuck Taylor All Star", "Low Top Canvas Trainers", "M7{colour}C", 55),
        ("Vans", "Old Skool", "Skate Shoes", "VN000D3H{colour}", 70),
        ("Vans", "Sk8-Hi", "Skate Shoes", "VN000D5I{colour}", 80),
        ("Puma", "Suede Classic XXI", "Trainers", "374915-{colour}", 65),
        ("ASICS", "Gel-Kayano 30", "Men's Running Shoes", "1011B548.{colour}", 160),
        ("ASICS", "Gel-Nimbus 26", "Men's Running Shoes", "1011B794.{colour}", 170),
    ]
    lines = [
        _line(c, brand, family, noun, model, colourways(letters=brand in ("New Balance", "Vans")),
              shoe_sizes(), price=price)
        for brand, family, noun, model, price in shoes
    ]
    lines += [
        _line(c, "Dr. Martens", "1460 Smooth Leather", "Lace Up Boots", "11822{colour}",
              colours({"Black": "006", "Cherry Red": "600", "White": "100", "Oxblood": "601"}),
              shoe_sizes(3, 13, half_sizes=False), price=169),
        _line(c, "Timberland", "6-Inch Premium", "Waterproof Boots", "10{colour}",
              colours({"Wheat Nubuck": "061", "Black Nubuck": "073", "Dark Brown": "001"}),
              shoe_sizes(6, 13), price=199),
        _line(c, "UGG", "Classic Mini II", "Women's Boots", "1016222-{colour}",
              colours({"Chestnut": "CHE", "Black": "BLK", "Grey": "GREY", "Sand": "SAN"}),
              shoe_sizes(3, 9, half_sizes=False), price=150),
    ]
    jeans = [
        ("Levi's", "501 Original Fit", "Men's Jeans", "00501-{colour}", 100),
        ("Levi's", "511 Slim Fit", "Men's Jeans", "04511-{colour}", 90),
        ("Levi's", "512 Slim Taper", "Men's Jeans", "28833-{colour}", 95),
        ("Wrangler", "Texas Regular Fit", "Men's Stretch Jeans", "W121{colour}", 65),
        ("Lee", "Daren Zip Fly Regular", "Men's Jeans", "L707{colour}", 70),
    ]
    lines += [
        _line(c, brand, family, noun, model, colours(_JEAN_WASHES), waists(28, 29, 30, 31, 32, 33, 34, 36, 38, 40),
              legs(30, 32, 34), price=price)
        for brand, family, noun, model, price in jeans
    ]
    tops = [
        ("Ralph Lauren", "Custom Slim Fit Mesh", "Polo Shirt", "710536856{colour}", 109),
        ("Lacoste", "L.12.12 Classic Fit", "Polo Shirt", "L1212-00-{colour}", 95),
        ("Tommy Hilfiger", "1985 Slim Fit", "Polo Shirt", "MW0MW17771{colour}", 70),
        ("Nike", "Sportswear Club Fleece", "Pullover Hoodie", "BV2654-{colour}", 55),
        ("Nike", "Dri-FIT Park VII", "Football Shirt", "BV6708-{colour}", 25),
        ("Adidas", "Essentials 3-Stripes", "Track Pants", "GK8{colour}", 40),
        ("Adidas", "Adicolor Trefoil", "T-Shirt", "IA4{colour}", 28),
        ("The North Face", "1996 Retro Nuptse", "Men's Puffer Jacket", "NF0A3C8D{colour}", 300),
        ("Champion", "Reverse Weave", "Hooded Sweatshirt", "216568-{colour}", 80),
        ("Calvin Klein", "Cotton Stretch", "Boxer Briefs 3-Pack", "NB2616{colour}", 42),
        ("Under Armour", "Tech 2.0", "Short Sleeve T-Shirt", "1326413-{colour}", 25),
        ("Carhartt WIP", "Chase", "Hoodie", "I026384-{colour}", 95),
        ("Columbia", "Watertight II", "Men's Rain Jacket", "1533891-{colour}", 80),
        ("Uniqlo", "AIRism Cotton", "Oversized T-Shirt", "46{colour}", 15),
        ("Barbour", "Essential Lambswool", "Crew Neck Jumper", "MKN0345{colour}", 100),
    ]
    lines += [
        _line(c, brand, family, noun, model, colours(_APPAREL_COLOURS), apparel_sizes(), price=price)
        for brand, family, noun, model, price in tops
    ]
    return lines


# fmt: on
def _build_catalogue() -> tuple[ProductLine, ...]:
    lines = (
        _storage_lines()
        + _phone_lines()
        + _accessory_lines()
        + _tv_lines()
        + _headphone_lines()
        + _laptop_lines()
        + _kitchen_lines()
        + _grocery_lines()
        + _clothing_lines()
    )
    for line in lines:
        _check_line(line)
    return tuple(lines)


def _check_line(line: ProductLine) -> None:
    """Every axis must show in the title, or two products of the line would read the same."""
    template = TITLE_TEMPLATES[line.category]
    hidden = [axis.name for axis in line.axes if axis.name not in template]
    if hidden:
        raise AssertionError(f"{line.brand} {line.family}: axes {hidden} have no place in the {line.category} title")


CATALOGUE: tuple[ProductLine, ...] = _build_catalogue()
# Each product of the catalogue has a global number: its line's offset plus its index in the line.
_LINE_OFFSETS: tuple[int, ...] = tuple(sum(line.size for line in CATALOGUE[:i]) for i in range(len(CATALOGUE)))
CATALOGUE_SIZE: int = sum(line.size for line in CATALOGUE)


# --- writing values ----------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:g}"


def _storage_forms(gb: float) -> list[str]:
    if gb >= 1000 and gb % 1000 == 0:
        tb = _number(gb / 1000)
        return [f"{tb}TB", f"{tb} TB", f"{_number(gb)}GB", f"{tb}tb", f"{tb} Terabyte"]
    size = _number(gb)
    return [f"{size}GB", f"{size} GB", f"{size}G", f"{size}gb", f"{size} Gigabyte"]


def _volume_forms(ml: float) -> list[str]:
    litres = _number(ml / 1000)
    if ml >= 1000:
        return [f"{litres}L", f"{litres} L", f"{litres} Litre", f"{_number(ml)}ml", f"{litres}ltr"]
    forms = [f"{_number(ml)}ml", f"{_number(ml)} ml", f"{_number(ml)}ML", f"{litres}L"]
    return forms + ([f"{_number(ml / 10)}cl"] if ml % 10 == 0 else [])


def _weight_forms(grams: float) -> list[str]:
    kilos = _number(grams / 1000)
    if grams >= 1000:
        return [f"{kilos}kg", f"{kilos} kg", f"{_number(grams)}g", f"{kilos}KG", f"{kilos} Kilo"]
    return [f"{_number(grams)}g", f"{_number(grams)} g", f"{_number(grams)}gr", f"{kilos}kg", f"{_number(grams)}G"]


_COUNT_ALTERNATIVES: Mapping[str, tuple[str, ...]] = {
    "Washes": ("{n} Wash", "{n}W", "{n} washes"),
    "Tea Bags": ("{n} Teabags", "{n} Bags", "Pack of {n}"),
    "Tablets": ("{n} Tabs", "{n} tablets", "{n}pk"),
    "Rolls": ("{n} Roll", "{n} Toilet Rolls", "{n}pk"),
    "Pack": ("{n}pk", "Pack of {n}", "x{n}", "{n}-Pack"),
    "Nappies": ("{n} Count", "{n} nappies", "{n}pk"),
    "Pouches": ("{n} x", "{n}pk", "{n} Pouch"),
    "Sticks": ("{n} Pack", "{n} sticks", "{n}pk"),
}


def _count_forms(n: float, label: str) -> list[str]:
    alternatives = _COUNT_ALTERNATIVES.get(label, ("{n} " + label.lower(), "{n}pk"))
    return [f"{_number(n)} {label}"] + [form.format(n=_number(n)) for form in alternatives]


_APPAREL_NAMES = {"XS": "Extra Small", "S": "Small", "M": "Medium", "L": "Large", "XL": "Extra Large", "XXL": "2XL"}

# fmt: off
_FORMATTERS: Mapping[str, Callable[[Any, str], list[str]]] = {
    "storage": lambda v, _: _storage_forms(v),
    "ram": lambda v, _: [f"{v}GB RAM", f"{v} GB RAM", f"{v}GB", f"RAM {v}GB", f"{v}GB Memory"],
    "ssd": lambda v, _: [f"{form} SSD" for form in _storage_forms(v)] + [f"SSD {_storage_forms(v)[0]}"],
    "inches": lambda v, _: [f'{v}"', f"{v} inch", f"{v}-in", f"{v}in", f"{v} Inch", f'{round(v * 2.54)}cm ({v}")'],
    "volume": lambda v, _: _volume_forms(v),
    "weight": lambda v, _: _weight_forms(v),
    "load": lambda v, _: [f"{v}kg", f"{v} kg", f"{v}KG", f"{v} Kilo", f"{v}kg Load"],
    "count": _count_forms,
    "shoe": lambda v, _: [f"UK {_number(v)}", f"UK{_number(v)}", f"Size {_number(v)}", f"UK Size {_number(v)}",
                          f"{_number(v)} UK"],
    "apparel": lambda v, _: [f"Size {v}", _APPAREL_NAMES[v], f"({v})", f"Sz {v}", f"{v}"],
    "nappy": lambda v, _: [f"Size {v}", f"Sz {v}", f"S{v}", f"Size{v}"],
    "device": lambda v, _: [f"for {v}", v, f"Compatible with {v}", f"for {v.replace(' ', '')}", f"fits {v}"],
    "mah": lambda v, _: [f"{v}mAh", f"{v:,}mAh", f"{v} mAh", f"{_number(v / 1000)}K mAh", f"{v}MAH"],
    "watts": lambda v, _: [f"{v}W", f"{v} W", f"{v} Watt", f"{v}w"],
    "waist": lambda v, _: [f"W{v}", f"{v}W", f"Waist {v}", f'{v}"W'],
    "leg": lambda v, _: [f"L{v}", f"{v}L", f"Leg {v}", f'{v}"L'],
    "colour": lambda v, _: _colour_forms(v),
    "plain": lambda v, _: [v, v.replace("-", ""), v.replace("-", " "), v.lower()],
}


# fmt: on
@cache
def _forms(unit: str, value: str | int | float, label: str) -> tuple[str, ...]:
    """Ways of writing a value: the first is the plain one, the rest mean the same thing."""
    canonical, *alternatives = _FORMATTERS[unit](value, label)
    distinct = list(dict.fromkeys(a for a in alternatives if a != canonical))
    return (canonical, *distinct)


def spellings(axis: Axis, option: Option) -> tuple[str, ...]:
    """Every way a seller writes this value; the first is the plain one."""
    return _forms(axis.unit, option.value, axis.label)


def render(axis: Axis, option: Option) -> str:
    return spellings(axis, option)[0]


# --- surface variation ------------------------------------------------------------------------------

# Whole words a seller may shorten or spell differently; the first column never changes meaning.
# fmt: off
WORD_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "Samsung": ("Sams.", "SAMSUNG"), "Seagate": ("Seag.", "SEAGATE"), "Toshiba": ("Tosh.",),
    "Panasonic": ("Pana.",), "Philips": ("Phil.",), "Sennheiser": ("Senn.",), "WD": ("Western Digital",),
    "HP": ("Hewlett Packard",), "Microsoft": ("MS",), "Hisense": ("HiSense",), "KitchenAid": ("Kitchen Aid",),
    "De'Longhi": ("DeLonghi", "Delonghi"), "Nescafé": ("Nescafe",), "Coca-Cola": ("Coca Cola",),
    "Levi's": ("Levis",), "Kellogg's": ("Kelloggs",), "Dr. Martens": ("Dr Martens", "Doc Martens"),
    "The North Face": ("North Face", "TNF"), "New Balance": ("NB",), "Audio-Technica": ("Audio Technica",),
    "Calvin Klein": ("CK",), "Under Armour": ("UA",), "Ralph Lauren": ("Polo Ralph Lauren",),
    "Black": ("Blk", "BLK"), "White": ("Wht", "WHT"), "Silver": ("Slv", "Silv."), "Grey": ("Gry", "Gray"),
    "Blue": ("Blu",), "Green": ("Grn",), "Titanium": ("Ti", "Titan."), "Midnight": ("Mid.",),
    "Internal": ("Int.", "Int"), "External": ("Ext.",), "Portable": ("Port.",), "Hard Drive": ("HDD", "HD"),
    "Solid State Drive": ("SSD",), "Flash Drive": ("Pen Drive", "USB Stick"), "Memory Card": ("Mem Card",),
    "Smart TV": ("SmartTV", "Smart Television"), "Wireless": ("Wrls", "Cordless"), "Bluetooth": ("BT",),
    "Noise Cancelling": ("NC", "Noise-Cancelling", "ANC"), "Headphones": ("Headphone", "H/phones"),
    "Earbuds": ("Buds", "Earphones"), "Laptop": ("Notebook",), "Smartphone": ("Phone", "Mobile"),
    "Unlocked": ("Unlckd", "SIM Free"), "Stainless Steel": ("S/Steel", "St. Steel"), "Stand Mixer": ("Mixer",),
    "Coffee Machine": ("Coffee Maker",), "Air Fryer": ("Airfryer",), "Washing": ("Wash.",),
    "Original": ("Orig.",), "Tablets": ("Tabs",), "Capsules": ("Caps",), "Instant": ("Inst.",),
    "Trainers": ("Sneakers", "Shoes"), "Men's": ("Mens", "Men"), "Women's": ("Womens", "Ladies"),
    "Jacket": ("Jkt",), "T-Shirt": ("Tee", "TShirt"), "Hoodie": ("Hoody",), "Professional": ("Pro",),
    "generation": ("Gen",), "Gigabyte": ("GB",),
}
# fmt: on
_WORD_PATTERNS = {word: re.compile(rf"(?<![\w']){re.escape(word)}(?![\w'])") for word in WORD_VARIANTS}

BOILERPLATE_PREFIXES = ("NEW!", "Brand New", "Genuine", "NEW", "100% Genuine", "** SALE **", "Official", "Boxed")
BOILERPLATE_SUFFIXES = (
    "Free Shipping",
    "Fast Dispatch",
    "UK Stock",
    "Free P&P",
    "Next Day Delivery",
    "Sealed",
    "- Fast & Free Delivery",
    "| Genuine UK Stock",
    "(Free Shipping)",
    "1 Year Warranty",
)
SEPARATORS = (" - ", ", ", " | ", " / ")

# Applied in this order; each returns False where it does not apply to the title at hand.
PERTURBATIONS = (
    "unit_format",
    "model_number",
    "abbreviation",
    "reorder",
    "punctuation",
    "boilerplate",
    "typo",
    "casing",
)
_PERTURBATION_COUNT_WEIGHTS = {1: 0.25, 2: 0.35, 3: 0.25, 4: 0.15}

Segments = list[tuple[str, str]]  # (role, text): role is brand, family, noun, model or an axis name


def _colour_forms(name: str) -> list[str]:
    shortened = name
    for word, variants in WORD_VARIANTS.items():
        if word in shortened:
            shortened = _WORD_PATTERNS[word].sub(variants[0], shortened)
    return [name, shortened, name.replace("/", " / "), f"({name})", name.lower(), name.replace("Grey", "Gray")]


def _model_forms(model: str) -> list[str]:
    """Ways sellers rewrite a model number without changing it."""
    forms = [re.sub(r"[-/.\s]", "", model), model.lower(), model.replace("-", " ")]
    return list(dict.fromkeys(f for f in forms if f != model))


# --- drawing products --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draw:
    line: int  # index into CATALOGUE
    combo: tuple[int, ...]
    sibling: int | None = None  # the product this one is a near miss of
    varied_axis: str | None = None


class _ProductSpace:
    """Unused products of the catalogue, drawn by category weight without replacement."""

    def __init__(self) -> None:
        self._used: set[tuple[int, int]] = set()
        self._remaining = [line.size for line in CATALOGUE]
        self._open_lines: dict[str, list[int]] = defaultdict(list)
        for index, line in enumerate(CATALOGUE):
            self._open_lines[line.category].append(index)

    def fresh(self, rng: random.Random) -> _Draw:
        categories = [c for c in CATEGORY_WEIGHTS if self._open_lines[c]]
        category = rng.choices(categories, weights=[CATEGORY_WEIGHTS[c] for c in categories])[0]
        line = rng.choice(self._open_lines[category])
        return self._take(line, self._unused_index(rng, line))

    def near_miss(self, rng: random.Random, sibling: _Draw, sibling_number: int) -> _Draw | None:
        """The sibling with one axis moved, preferring the neighbouring value; None if all are used."""
        line = CATALOGUE[sibling.line]
        axes = [i for i, axis in enumerate(line.axes) if len(axis.options) > 1]
        rng.shuffle(axes)
        for axis_index in axes:
            for pick in _candidate_picks(rng, line.axes[axis_index], sibling.combo[axis_index]):
                combo = (*sibling.combo[:axis_index], pick, *sibling.combo[axis_index + 1 :])
                if (sibling.line, line.index(combo)) not in self._used:
                    draw = self._take(sibling.line, line.index(combo))
                    return _Draw(draw.line, draw.combo, sibling_number, line.axes[axis_index].name)
        return None

    def _unused_index(self, rng: random.Random, line: int) -> int:
        size = CATALOGUE[line].size
        for _ in range(8):
            index = rng.randrange(size)
            if (line, index) not in self._used:
                return index
        start = rng.randrange(size)  # a crowded line: walk to the next free product
        return next(i % size for i in range(start, start + size) if (line, i % size) not in self._used)

    def _take(self, line: int, index: int) -> _Draw:
        self._used.add((line, index))
        self._remaining[line] -= 1
        if not self._remaining[line]:
            self._open_lines[CATALOGUE[line].category].remove(line)
        return _Draw(line, CATALOGUE[line].combo(index))


def _candidate_picks(rng: random.Random, axis: Axis, current: int) -> list[int]:
    """Other options of an axis, nearest first for ordered values (4TB -> 6TB before 14TB)."""
    others = [i for i in range(len(axis.options)) if i != current]
    if axis.kind == "colour":
        rng.shuffle(others)
        return others
    return sorted(others, key=lambda i: (abs(i - current), rng.random()))


def _draw_products(rng: random.Random, n_products: int, near_miss_rate: float) -> list[_Draw]:
    space = _ProductSpace()
    draws: list[_Draw] = []
    while len(draws) < n_products:
        draw = None
        if draws and rng.random() < near_miss_rate:
            for _ in range(3):  # a sibling whose variants are all taken: try another
                sibling_number = rng.randrange(len(draws))
                draw = space.near_miss(rng, draws[sibling_number], sibling_number)
                if draw is not None:
                    break
        draws.append(draw or space.fresh(rng))
    return draws


# --- the catalog ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticProduct:
    cluster_id: str
    category: str
    brand: str
    line: str  # brand and family, e.g. "WD Red Plus"
    line_index: int  # its ProductLine is CATALOGUE[line_index]
    attributes: dict[str, str]  # axis name -> plainly written value, e.g. {"capacity": "4TB"}
    model_number: str
    canonical_listing_id: str  # the listing written plainly, with no perturbation
    listing_ids: tuple[str, ...]  # in catalog order, the canonical one included


@dataclass(frozen=True)
class NearMiss:
    """``cluster_id`` is ``sibling_cluster_id`` with one axis moved: a different product."""

    cluster_id: str
    sibling_cluster_id: str
    axis: str
    kind: VariantKind


@dataclass
class SyntheticCatalog:
    seed: int
    listings: list[dict[str, Any]]
    truth: dict[str, str]  # listing_id -> cluster_id
    products: dict[str, SyntheticProduct] = field(repr=False)
    near_misses: list[NearMiss] = field(repr=False)
    perturbations: dict[str, tuple[str, ...]] = field(repr=False)  # listing_id -> what was changed

    def pairs(self, n_negatives_per_positive: int = 3, *, clusters: Collection[str] | None = None) -> list[LabeledPair]:
        """Every duplicate pair plus ``n_negatives_per_positive`` negatives per duplicate pair.

        Half of the negatives are hard (near-miss products first, then two products of one
        brand); the rest are random. A catalog without duplicates gives no pairs. ``clusters``
        restricts both sides of every pair to those products.
        """
        if n_negatives_per_positive < 0:
            raise ValueError(f"n_negatives_per_positive must be >= 0, got {n_negatives_per_positive}")
        chosen_clusters = self.products.keys() if clusters is None else set(clusters)
        products = [product for cluster, product in self.products.items() if cluster in chosen_clusters]
        near_misses = [n for n in self.near_misses if {n.cluster_id, n.sibling_cluster_id} <= chosen_clusters]
        rng = random.Random(f"synthetic-pairs:{self.seed}:{n_negatives_per_positive}:{len(products)}")
        positives = [LabeledPair(a, b, 1) for p in products for a, b in combinations(p.listing_ids, 2)]
        chosen = _NegativeSampler(rng, products, near_misses, {pair.key() for pair in positives})
        budget = n_negatives_per_positive * len(positives)
        chosen.add_near_misses(budget // 2)
        chosen.add_same_brand(budget // 2)
        chosen.add_random(budget)
        labeled = positives + chosen.negatives
        rng.shuffle(labeled)
        return labeled

    def write(
        self,
        root: Path | str,
        *,
        n_negatives_per_positive: int = 3,
        valid_fraction: float = 0.2,
        overwrite: bool = False,
    ) -> None:
        """Write the shared layout: listings.jsonl, truth.csv and pairs/{train,valid,all}.csv.

        train and valid are split by product family (a product and its near misses stay
        together), so no product, and no near-miss negative, is in both; each is sampled with
        the requested negative ratio, and all.csv is the two together.
        """
        train_clusters, valid_clusters = self.split_clusters(valid_fraction)
        train = self.pairs(n_negatives_per_positive, clusters=train_clusters)
        valid = self.pairs(n_negatives_per_positive, clusters=valid_clusters)
        by_split = {"train": train, "valid": valid, "all": train + valid}
        write_dataset(Path(root), self.listings, pairs=by_split, truth=self.truth, overwrite=overwrite)

    def split_clusters(self, valid_fraction: float = 0.2) -> tuple[list[str], list[str]]:
        """(train, valid) cluster ids; a near-miss family never straddles the two."""
        if not 0.0 <= valid_fraction <= 1.0:
            raise ValueError(f"valid_fraction must be within [0, 1], got {valid_fraction}")
        family = group_roots(((near.cluster_id, near.sibling_cluster_id) for near in self.near_misses), self.products)
        roots = list(dict.fromkeys(family.values()))
        random.Random(f"synthetic-split:{self.seed}").shuffle(roots)
        valid_roots = set(roots[: round(valid_fraction * len(roots))])
        train = [cluster for cluster in family if family[cluster] not in valid_roots]
        valid = [cluster for cluster in family if family[cluster] in valid_roots]
        return train, valid


class _NegativeSampler:
    """Collects distinct negative pairs from the hardest sources first."""

    def __init__(
        self,
        rng: random.Random,
        products: Sequence[SyntheticProduct],
        near_misses: Sequence[NearMiss],
        taken: set[frozenset[str]],
    ) -> None:
        self._rng = rng
        self._products = products
        self._near_misses = near_misses
        self._taken = taken
        self.negatives: list[LabeledPair] = []

    def add_near_misses(self, up_to: int) -> None:
        by_cluster = {product.cluster_id: product for product in self._products}
        candidates = [
            (left, right)
            for near in self._near_misses
            for left in by_cluster[near.cluster_id].listing_ids
            for right in by_cluster[near.sibling_cluster_id].listing_ids
        ]
        self._rng.shuffle(candidates)
        for left, right in candidates:
            if len(self.negatives) >= up_to:
                return
            self._add(left, right)

    def add_same_brand(self, up_to: int) -> None:
        by_brand: dict[str, list[SyntheticProduct]] = defaultdict(list)
        for product in self._products:
            by_brand[product.brand].append(product)
        groups = [group for group in by_brand.values() if len(group) > 1]
        self._sample(up_to, lambda: self._rng.sample(self._rng.choice(groups), 2) if groups else None)

    def add_random(self, up_to: int) -> None:
        products = self._products
        self._sample(up_to, lambda: self._rng.sample(products, 2) if len(products) > 1 else None)

    def _sample(self, up_to: int, draw_two: Callable[[], list[SyntheticProduct] | None]) -> None:
        attempts = 20 * max(0, up_to - len(self.negatives))  # small catalogs run out of distinct pairs
        for _ in range(attempts):
            if len(self.negatives) >= up_to:
                return
            two = draw_two()
            if two is None:
                return
            self._add(self._rng.choice(two[0].listing_ids), self._rng.choice(two[1].listing_ids))

    def _add(self, left: str, right: str) -> None:
        key = frozenset((left, right))
        if key not in self._taken:
            self._taken.add(key)
            self.negatives.append(LabeledPair(*sorted((left, right)), 0))


# --- writing listings --------------------------------------------------------------------------------


@dataclass
class _Product:
    """A drawn product with everything its listings share."""

    draw: _Draw
    line: ProductLine
    cluster_id: str
    model_number: str
    price: float
    model_in_title: bool

    def options(self) -> list[tuple[Axis, Option]]:
        return [(axis, axis.options[pick]) for axis, pick in zip(self.line.axes, self.draw.combo, strict=True)]


@dataclass
class _Listing:
    product: int
    event: dict[str, Any]
    perturbations: tuple[str, ...]


def generate_catalog(
    n_products: int = 1000, *, duplicate_rate: float = 0.35, near_miss_rate: float = 0.25, seed: int = 0
) -> SyntheticCatalog:
    """A shuffled catalog of ``n_products`` distinct products and their duplicate listings.

    ``duplicate_rate``: share of products listed again by 1-3 other sellers.
    ``near_miss_rate``: share of products that are a near miss of an earlier product.
    """
    _check_arguments(n_products, duplicate_rate, near_miss_rate)
    rng = random.Random(seed)
    draws = _draw_products(rng, n_products, near_miss_rate)
    products: list[_Product] = []
    for number, draw in enumerate(draws):
        products.append(_make_product(rng, number, draw, products))
    sellers = [f"seller-{i:05d}" for i in range(max(25, n_products // 6))]
    listings = [
        listing
        for number, product in enumerate(products)
        for listing in _list_product(rng, number, product, duplicate_rate, sellers)
    ]
    rng.shuffle(listings)
    _stamp(rng, listings)
    return _assemble(seed, products, listings)


def _check_arguments(n_products: int, duplicate_rate: float, near_miss_rate: float) -> None:
    if not 0 <= n_products <= CATALOGUE_SIZE:
        raise ValueError(
            f"n_products must be within [0, {CATALOGUE_SIZE}], the distinct products the catalogue describes;"
            f" got {n_products}"
        )
    for name, rate in (("duplicate_rate", duplicate_rate), ("near_miss_rate", near_miss_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {rate}")


def _make_product(rng: random.Random, number: int, draw: _Draw, earlier: Sequence[_Product]) -> _Product:
    line = CATALOGUE[draw.line]
    global_number = _LINE_OFFSETS[draw.line] + line.index(draw.combo)
    codes = {axis.name: axis.options[pick].code for axis, pick in zip(line.axes, draw.combo, strict=True)}
    model_number = line.model.format(**codes, serial=_serial(global_number), ean=_ean13(global_number))
    factor = math.prod(axis.options[pick].price_factor for axis, pick in zip(line.axes, draw.combo, strict=True))
    # A near miss is written like its sibling, so that only the varied value tells them apart.
    if draw.sibling is None:
        model_in_title = rng.random() < MODEL_IN_TITLE_RATE[line.category]
    else:
        model_in_title = earlier[draw.sibling].model_in_title
    return _Product(draw, line, f"syn-p{number:06d}", model_number, _retail_price(line.price * factor), model_in_title)


def _serial(global_number: int) -> str:
    """A unique 4-character code per catalogue product: a bijection of its number mod 36**4."""
    value = (global_number * 7919 + 104729) % 36**4
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(digits[(value // 36**power) % 36] for power in (3, 2, 1, 0))


def _ean13(global_number: int) -> str:
    body = "50" + f"{(global_number * 7919 + 3_000_017) % 10**10:010d}"
    weighted = sum(int(digit) * (3 if position % 2 else 1) for position, digit in enumerate(body))
    return body + str((10 - weighted % 10) % 10)


def _retail_price(amount: float) -> float:
    """Prices end the way shops end them: 154.99, 4.49."""
    if amount >= 20:
        return round(max(1.0, round(amount)) - 0.01, 2)
    return round(max(0.1, round(amount * 2) / 2) - 0.01, 2)


def _list_product(
    rng: random.Random, number: int, product: _Product, duplicate_rate: float, sellers: Sequence[str]
) -> list[_Listing]:
    extra = (
        rng.choices(list(EXTRA_LISTINGS_WEIGHTS), weights=list(EXTRA_LISTINGS_WEIGHTS.values()))[0]
        if rng.random() < duplicate_rate
        else 0
    )
    seller_ids = rng.sample(sellers, extra + 1)
    listings = [_Listing(number, _canonical_event(rng, product, seller_ids[0]), ())]
    for seller_id in seller_ids[1:]:
        event, perturbations = _duplicate_event(rng, product, seller_id)
        listings.append(_Listing(number, event, perturbations))
    return listings


def _canonical_segments(product: _Product) -> Segments:
    line = product.line
    texts = {"brand": line.brand, "family": line.family, "noun": line.noun}
    texts.update((axis.name, render(axis, option)) for axis, option in product.options())
    if product.model_in_title:
        texts["model"] = product.model_number
    return [(role, texts[role]) for role in TITLE_TEMPLATES[line.category] if texts.get(role)]


def _canonical_event(rng: random.Random, product: _Product, seller_id: str) -> dict[str, Any]:
    title = " ".join(text for _, text in _canonical_segments(product))
    return _event(
        title=title,
        description=_description(rng, product) if rng.random() < 0.6 else None,
        brand=product.line.brand,
        category=product.line.category,
        price=product.price if rng.random() > 0.02 else None,
        seller_id=seller_id,
        model_number=product.model_number if rng.random() < 0.75 else None,
    )


def _duplicate_event(rng: random.Random, product: _Product, seller_id: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    title, perturbations = _perturbed_title(rng, product)
    brand = product.line.brand
    brand_field = rng.choices([brand, WORD_VARIANTS.get(brand, (brand.upper(),))[0], None], weights=[0.7, 0.1, 0.2])[0]
    jitter = rng.uniform(1 - PRICE_JITTER, 1 + PRICE_JITTER)
    model_number = None
    if rng.random() < 0.5:
        forms = _model_forms(product.model_number)
        model_number = rng.choice(forms) if forms and rng.random() < 0.2 else product.model_number
    event = _event(
        title=title,
        description=_description(rng, product) if rng.random() < 0.4 else None,
        brand=brand_field,
        category=product.line.category if rng.random() < 0.8 else None,
        price=round(product.price * jitter, 2) if rng.random() > 0.02 else None,
        seller_id=seller_id,
        model_number=model_number,
    )
    return event, perturbations


def _event(**fields: Any) -> dict[str, Any]:
    # listing_id and created_at are filled in once the catalog order is known.
    return {"listing_id": "", "title": fields.pop("title"), **fields, "currency": CURRENCY, "created_at": ""}


def _description(rng: random.Random, product: _Product) -> str:
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


def _perturbed_title(rng: random.Random, product: _Product) -> tuple[str, tuple[str, ...]]:
    wanted = rng.choices(list(_PERTURBATION_COUNT_WEIGHTS), weights=list(_PERTURBATION_COUNT_WEIGHTS.values()))[0]
    chosen = set(rng.sample(PERTURBATIONS, wanted))
    segments = _canonical_segments(product)
    applied = [name for name in PERTURBATIONS[:4] if name in chosen and _SEGMENT_EDITS[name](rng, product, segments)]
    separator = rng.choice(SEPARATORS) if "punctuation" in chosen else None
    title = _join(segments, product, separator)
    if separator and title != " ".join(text for _, text in segments):
        applied.append("punctuation")
    for name in PERTURBATIONS[5:]:
        if name in chosen or (name == "boilerplate" and not applied):  # every duplicate differs somehow
            edited = _TITLE_EDITS[name](rng, title, product)
            if edited != title:
                title = edited
                applied.append(name)
    return title, tuple(name for name in PERTURBATIONS if name in applied)


def _join(segments: Segments, product: _Product, separator: str | None) -> str:
    """Words of one segment stay together; a separator goes before every value and the model."""
    if separator is None:
        return " ".join(text for _, text in segments)
    axis_names = {axis.name for axis in product.line.axes} | {"model"}
    title = segments[0][1]
    for role, text in segments[1:]:
        title += (separator if role in axis_names else " ") + text
    return title


def _reformat_units(rng: random.Random, product: _Product, segments: Segments) -> bool:
    axis_by_name = {axis.name: (axis, option) for axis, option in product.options()}
    positions = [
        i
        for i, (role, _) in enumerate(segments)
        if role in axis_by_name
        and len(_forms(axis_by_name[role][0].unit, axis_by_name[role][1].value, axis_by_name[role][0].label)) > 1
    ]
    if not positions:
        return False
    for i in rng.sample(positions, rng.randint(1, len(positions))):
        axis, option = axis_by_name[segments[i][0]]
        segments[i] = (segments[i][0], rng.choice(_forms(axis.unit, option.value, axis.label)[1:]))
    return True


def _change_model_number(rng: random.Random, product: _Product, segments: Segments) -> bool:
    roles = [role for role, _ in segments]
    if "model" in roles:
        at = roles.index("model")
        forms = _model_forms(product.model_number)
        if forms and rng.random() < 0.4:
            segments[at] = ("model", rng.choice(forms))
        else:
            del segments[at]
        return True
    segments.insert(rng.choice([0, len(segments)]), ("model", product.model_number))
    return True


def _abbreviate(rng: random.Random, product: _Product, segments: Segments) -> bool:
    candidates = [
        (i, word)
        for i, (role, text) in enumerate(segments)
        if role != "model"
        for word in WORD_VARIANTS
        if word in text and _WORD_PATTERNS[word].search(text)
    ]
    if not candidates:
        return False
    for i, word in rng.sample(candidates, min(len(candidates), rng.randint(1, 2))):
        role, text = segments[i]
        segments[i] = (role, _WORD_PATTERNS[word].sub(rng.choice(WORD_VARIANTS[word]), text, count=1))
    return True


def _reorder(rng: random.Random, product: _Product, segments: Segments) -> bool:
    axis_names = {axis.name for axis in product.line.axes}
    movable = [i for i, (role, _) in enumerate(segments) if i > 0 and (role in axis_names or role in ("model", "noun"))]
    if len(segments) < 3 or not movable:
        return False
    source = rng.choice(movable)
    target = rng.choice([position for position in (0, 1) if position != source])  # front, or after the brand
    segments.insert(target, segments.pop(source))
    return True


def _add_boilerplate(rng: random.Random, title: str, product: _Product) -> str:
    where = rng.random()
    if where < 0.4:
        return f"{rng.choice(BOILERPLATE_PREFIXES)} {title}"
    if where < 0.8:
        return f"{title} {rng.choice(BOILERPLATE_SUFFIXES)}"
    return f"{rng.choice(BOILERPLATE_PREFIXES)} {title} {rng.choice(BOILERPLATE_SUFFIXES)}"


def _typo(rng: random.Random, title: str, product: _Product) -> str:
    """Drop or swap a letter in one word that is not the model number."""
    words = title.split(" ")
    model_forms = {product.model_number, *_model_forms(product.model_number)}
    eligible = [i for i, word in enumerate(words) if len(word) >= 4 and word.isalpha() and word not in model_forms]
    if not eligible:
        return title
    at = rng.choice(eligible)
    word = words[at]
    cut = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5 or word[cut] == word[cut + 1]:
        words[at] = word[:cut] + word[cut + 1 :]
    else:
        words[at] = word[:cut] + word[cut + 1] + word[cut] + word[cut + 2 :]
    return " ".join(words)


def _recase(rng: random.Random, title: str, product: _Product) -> str:
    style = rng.random()
    if style < 0.4:
        return title.lower()
    if style < 0.7:
        return title.upper()
    return " ".join(word[:1].upper() + word[1:].lower() for word in title.split(" "))


_SEGMENT_EDITS: Mapping[str, Callable[[random.Random, _Product, Segments], bool]] = {
    "unit_format": _reformat_units,
    "model_number": _change_model_number,
    "abbreviation": _abbreviate,
    "reorder": _reorder,
}
_TITLE_EDITS: Mapping[str, Callable[[random.Random, str, _Product], str]] = {
    "boilerplate": _add_boilerplate,
    "typo": _typo,
    "casing": _recase,
}


def _stamp(rng: random.Random, listings: Sequence[_Listing]) -> None:
    """Ids and creation times follow catalog order, so replaying the file replays the feed."""
    moment = FIRST_LISTING_AT
    for position, listing in enumerate(listings):
        moment += timedelta(seconds=rng.randint(1, MAX_SECONDS_BETWEEN_LISTINGS))
        listing.event["listing_id"] = f"syn-{position:06d}"
        listing.event["created_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _assemble(seed: int, products: Sequence[_Product], listings: Sequence[_Listing]) -> SyntheticCatalog:
    listing_ids: dict[int, list[str]] = defaultdict(list)
    canonical: dict[int, str] = {}
    for listing in listings:
        listing_ids[listing.product].append(listing.event["listing_id"])
        if not listing.perturbations:
            canonical[listing.product] = listing.event["listing_id"]
    catalog_products = {
        p.cluster_id: SyntheticProduct(
            cluster_id=p.cluster_id,
            category=p.line.category,
            brand=p.line.brand,
            line=f"{p.line.brand} {p.line.family}".strip(),
            line_index=p.draw.line,
            attributes={axis.name: render(axis, option) for axis, option in p.options()},
            model_number=p.model_number,
            canonical_listing_id=canonical[number],
            listing_ids=tuple(listing_ids[number]),
        )
        for number, p in enumerate(products)
    }
    near_misses = [
        NearMiss(
            p.cluster_id,
            products[p.draw.sibling].cluster_id,
            p.draw.varied_axis or "",
            _axis_kind(p.line, p.draw.varied_axis),
        )
        for p in products
        if p.draw.sibling is not None
    ]
    return SyntheticCatalog(
        seed=seed,
        listings=[listing.event for listing in listings],
        truth={listing.event["listing_id"]: products[listing.product].cluster_id for listing in listings},
        products=catalog_products,
        near_misses=near_misses,
        perturbations={listing.event["listing_id"]: listing.perturbations for listing in listings},
    )


def _axis_kind(line: ProductLine, name: str | None) -> VariantKind:
    return next(axis.kind for axis in line.axes if axis.name == name)


# --- command line ---------------------------------------------------------------------------------------
