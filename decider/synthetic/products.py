"""Which catalogue products a synthetic catalog holds, and what every listing of one product shares.

Products are drawn without replacement, by category weight; a near miss is an earlier product
with one axis moved. Each drawn product gets its model number, retail price and whether sellers
put the model number in its title.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from decider.synthetic.categories import CATEGORY_WEIGHTS, MODEL_IN_TITLE_RATE
from decider.synthetic.product_lines import CATALOGUE, LINE_OFFSETS
from decider.synthetic.vocabulary import Axis, Option, ProductLine


@dataclass(frozen=True)
class Draw:
    """A product picked from the catalogue: its line and the option it takes on each axis."""

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

    def fresh(self, rng: random.Random) -> Draw:
        categories = [c for c in CATEGORY_WEIGHTS if self._open_lines[c]]
        category = rng.choices(categories, weights=[CATEGORY_WEIGHTS[c] for c in categories])[0]
        line = rng.choice(self._open_lines[category])
        return self._take(line, self._unused_index(rng, line))

    def near_miss(self, rng: random.Random, sibling: Draw, sibling_number: int) -> Draw | None:
        """The sibling with one axis moved, preferring the neighbouring value; None if all are used."""
        line = CATALOGUE[sibling.line]
        axes = [i for i, axis in enumerate(line.axes) if len(axis.options) > 1]
        rng.shuffle(axes)
        for axis_index in axes:
            for pick in _candidate_picks(rng, line.axes[axis_index], sibling.combo[axis_index]):
                combo = (*sibling.combo[:axis_index], pick, *sibling.combo[axis_index + 1 :])
                if (sibling.line, line.index(combo)) not in self._used:
                    draw = self._take(sibling.line, line.index(combo))
                    return Draw(draw.line, draw.combo, sibling_number, line.axes[axis_index].name)
        return None

    def _unused_index(self, rng: random.Random, line: int) -> int:
        size = CATALOGUE[line].size
        for _ in range(8):
            index = rng.randrange(size)
            if (line, index) not in self._used:
                return index
        start = rng.randrange(size)  # a crowded line: walk to the next free product
        return next(i % size for i in range(start, start + size) if (line, i % size) not in self._used)

    def _take(self, line: int, index: int) -> Draw:
        self._used.add((line, index))
        self._remaining[line] -= 1
        if not self._remaining[line]:
            self._open_lines[CATALOGUE[line].category].remove(line)
        return Draw(line, CATALOGUE[line].combo(index))


def _candidate_picks(rng: random.Random, axis: Axis, current: int) -> list[int]:
    """Other options of an axis, nearest first for ordered values (4TB -> 6TB before 14TB)."""
    others = [i for i in range(len(axis.options)) if i != current]
    if axis.kind == "colour":
        rng.shuffle(others)
        return others
    return sorted(others, key=lambda i: (abs(i - current), rng.random()))


def draw_products(rng: random.Random, n_products: int, near_miss_rate: float) -> list[Draw]:
    space = _ProductSpace()
    draws: list[Draw] = []
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


@dataclass
class DrawnProduct:
    """A drawn product with everything its listings share."""

    draw: Draw
    line: ProductLine
    cluster_id: str
    model_number: str
    price: float
    model_in_title: bool

    def options(self) -> list[tuple[Axis, Option]]:
        return [(axis, axis.options[pick]) for axis, pick in zip(self.line.axes, self.draw.combo, strict=True)]


def make_product(rng: random.Random, number: int, draw: Draw, earlier: Sequence[DrawnProduct]) -> DrawnProduct:
    line = CATALOGUE[draw.line]
    global_number = LINE_OFFSETS[draw.line] + line.index(draw.combo)
    codes = {axis.name: axis.options[pick].code for axis, pick in zip(line.axes, draw.combo, strict=True)}
    model_number = line.model.format(**codes, serial=_serial(global_number), ean=_ean13(global_number))
    factor = math.prod(axis.options[pick].price_factor for axis, pick in zip(line.axes, draw.combo, strict=True))
    # A near miss is written like its sibling, so that only the varied value tells them apart.
    if draw.sibling is None:
        model_in_title = rng.random() < MODEL_IN_TITLE_RATE[line.category]
    else:
        model_in_title = earlier[draw.sibling].model_in_title
    return DrawnProduct(
        draw, line, f"syn-p{number:06d}", model_number, _retail_price(line.price * factor), model_in_title
    )


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
