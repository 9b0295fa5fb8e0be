"""How sellers write a value: the spellings of units, counts, sizes, colours, words and model numbers.

The first spelling of a value is the plain one a first listing uses; the others mean the same thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from decider.synthetic.vocabulary import Axis, Option


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
WORD_PATTERNS = {word: re.compile(rf"(?<![\w']){re.escape(word)}(?![\w'])") for word in WORD_VARIANTS}


def _colour_forms(name: str) -> list[str]:
    shortened = name
    for word, variants in WORD_VARIANTS.items():
        if word in shortened:
            shortened = WORD_PATTERNS[word].sub(variants[0], shortened)
    return [name, shortened, name.replace("/", " / "), f"({name})", name.lower(), name.replace("Grey", "Gray")]


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


def model_forms(model: str) -> list[str]:
    """Ways sellers rewrite a model number without changing it."""
    forms = [re.sub(r"[-/.\s]", "", model), model.lower(), model.replace("-", " ")]
    return list(dict.fromkeys(f for f in forms if f != model))
