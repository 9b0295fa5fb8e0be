"""How a product line is described: options on axes (capacity, size, colour, series) and the axis builders.

A product of a line is one option on each axis; an option carries the code it adds to the model
number and the factor it moves the price by.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

VariantKind = Literal["capacity", "size", "colour", "model"]


@dataclass(frozen=True)
class Option:
    value: str | int | float
    code: str  # how the value appears inside the model number
    price_factor: float = 1.0


@dataclass(frozen=True)
class Axis:
    name: str  # the title segment it fills: capacity, size, colour, series, ram, ssd, pack, waist, leg
    kind: VariantKind
    unit: str  # how values are written: a key of spellings._FORMATTERS
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


def line(category: str, brand: str, family: str, noun: str, model: str, *axes: Axis, price: float) -> ProductLine:
    """A ProductLine written as one row of a catalogue table, its axes as trailing arguments."""
    return ProductLine(category, brand, family, noun, model, axes, price)


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
