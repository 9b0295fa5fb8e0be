"""The whole catalogue of product lines a synthetic catalog draws from, checked once at import."""

from __future__ import annotations

from decider.synthetic.categories import TITLE_TEMPLATES
from decider.synthetic.lines_grocery_clothing import clothing_lines, grocery_lines
from decider.synthetic.lines_phones import accessory_lines, phone_lines
from decider.synthetic.lines_storage_laptops import laptop_lines, storage_lines
from decider.synthetic.lines_tv_audio_kitchen import headphone_lines, kitchen_lines, tv_lines
from decider.synthetic.vocabulary import ProductLine


def _build_catalogue() -> tuple[ProductLine, ...]:
    lines = (
        storage_lines()
        + phone_lines()
        + accessory_lines()
        + tv_lines()
        + headphone_lines()
        + laptop_lines()
        + kitchen_lines()
        + grocery_lines()
        + clothing_lines()
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
LINE_OFFSETS: tuple[int, ...] = tuple(sum(line.size for line in CATALOGUE[:i]) for i in range(len(CATALOGUE)))
CATALOGUE_SIZE: int = sum(line.size for line in CATALOGUE)
