"""Listing titles: the plain title of a product and the perturbed titles its duplicates carry.

A duplicate differs from the plain title by unit formats, a dropped, added or rewritten model
number, abbreviations, reordering, punctuation, seller boilerplate, typos and casing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from decider.synthetic.categories import TITLE_TEMPLATES
from decider.synthetic.products import DrawnProduct
from decider.synthetic.spellings import WORD_PATTERNS, WORD_VARIANTS, model_forms, render, spellings

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


def _canonical_segments(product: DrawnProduct) -> Segments:
    line = product.line
    texts = {"brand": line.brand, "family": line.family, "noun": line.noun}
    texts.update((axis.name, render(axis, option)) for axis, option in product.options())
    if product.model_in_title:
        texts["model"] = product.model_number
    return [(role, texts[role]) for role in TITLE_TEMPLATES[line.category] if texts.get(role)]


def plain_title(product: DrawnProduct) -> str:
    """The title of a product's first listing, with no perturbation."""
    return _words(_canonical_segments(product))


def _words(segments: Segments) -> str:
    return " ".join(text for _, text in segments)


def perturbed_title(rng: random.Random, product: DrawnProduct) -> tuple[str, tuple[str, ...]]:
    """A duplicate's title and the perturbations that changed it, in ``PERTURBATIONS`` order."""
    wanted = rng.choices(list(_PERTURBATION_COUNT_WEIGHTS), weights=list(_PERTURBATION_COUNT_WEIGHTS.values()))[0]
    chosen = set(rng.sample(PERTURBATIONS, wanted))
    segments = _canonical_segments(product)
    applied = [name for name in PERTURBATIONS[:4] if name in chosen and _SEGMENT_EDITS[name](rng, product, segments)]
    separator = rng.choice(SEPARATORS) if "punctuation" in chosen else None
    title = _join(segments, product, separator)
    if separator and title != _words(segments):
        applied.append("punctuation")
    for name in PERTURBATIONS[5:]:
        if name in chosen or (name == "boilerplate" and not applied):  # every duplicate differs somehow
            edited = _TITLE_EDITS[name](rng, title, product)
            if edited != title:
                title = edited
                applied.append(name)
    return title, tuple(name for name in PERTURBATIONS if name in applied)


def _join(segments: Segments, product: DrawnProduct, separator: str | None) -> str:
    """Words of one segment stay together; a separator goes before every value and the model."""
    if separator is None:
        return _words(segments)
    axis_names = {axis.name for axis in product.line.axes} | {"model"}
    title = segments[0][1]
    for role, text in segments[1:]:
        title += (separator if role in axis_names else " ") + text
    return title


def _reformat_units(rng: random.Random, product: DrawnProduct, segments: Segments) -> bool:
    axis_by_name = {axis.name: (axis, option) for axis, option in product.options()}
    positions = [
        i for i, (role, _) in enumerate(segments) if role in axis_by_name and len(spellings(*axis_by_name[role])) > 1
    ]
    if not positions:
        return False
    for i in rng.sample(positions, rng.randint(1, len(positions))):
        axis, option = axis_by_name[segments[i][0]]
        segments[i] = (segments[i][0], rng.choice(spellings(axis, option)[1:]))
    return True


def _change_model_number(rng: random.Random, product: DrawnProduct, segments: Segments) -> bool:
    roles = [role for role, _ in segments]
    if "model" in roles:
        at = roles.index("model")
        forms = model_forms(product.model_number)
        if forms and rng.random() < 0.4:
            segments[at] = ("model", rng.choice(forms))
        else:
            del segments[at]
        return True
    segments.insert(rng.choice([0, len(segments)]), ("model", product.model_number))
    return True


def _abbreviate(rng: random.Random, product: DrawnProduct, segments: Segments) -> bool:
    candidates = [
        (i, word)
        for i, (role, text) in enumerate(segments)
        if role != "model"
        for word in WORD_VARIANTS
        if word in text and WORD_PATTERNS[word].search(text)
    ]
    if not candidates:
        return False
    for i, word in rng.sample(candidates, min(len(candidates), rng.randint(1, 2))):
        role, text = segments[i]
        segments[i] = (role, WORD_PATTERNS[word].sub(rng.choice(WORD_VARIANTS[word]), text, count=1))
    return True


def _reorder(rng: random.Random, product: DrawnProduct, segments: Segments) -> bool:
    axis_names = {axis.name for axis in product.line.axes}
    movable = [i for i, (role, _) in enumerate(segments) if i > 0 and (role in axis_names or role in ("model", "noun"))]
    if len(segments) < 3 or not movable:
        return False
    source = rng.choice(movable)
    target = rng.choice([position for position in (0, 1) if position != source])  # front, or after the brand
    segments.insert(target, segments.pop(source))
    return True


def _add_boilerplate(rng: random.Random, title: str, product: DrawnProduct) -> str:
    where = rng.random()
    if where < 0.4:
        return f"{rng.choice(BOILERPLATE_PREFIXES)} {title}"
    if where < 0.8:
        return f"{title} {rng.choice(BOILERPLATE_SUFFIXES)}"
    return f"{rng.choice(BOILERPLATE_PREFIXES)} {title} {rng.choice(BOILERPLATE_SUFFIXES)}"


def _typo(rng: random.Random, title: str, product: DrawnProduct) -> str:
    """Drop or swap a letter in one word that is not the model number."""
    words = title.split(" ")
    model_spellings = {product.model_number, *model_forms(product.model_number)}
    eligible = [i for i, word in enumerate(words) if len(word) >= 4 and word.isalpha() and word not in model_spellings]
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


def _recase(rng: random.Random, title: str, product: DrawnProduct) -> str:
    style = rng.random()
    if style < 0.4:
        return title.lower()
    if style < 0.7:
        return title.upper()
    return " ".join(word[:1].upper() + word[1:].lower() for word in title.split(" "))


_SEGMENT_EDITS: Mapping[str, Callable[[random.Random, DrawnProduct, Segments], bool]] = {
    "unit_format": _reformat_units,
    "model_number": _change_model_number,
    "abbreviation": _abbreviate,
    "reorder": _reorder,
}
_TITLE_EDITS: Mapping[str, Callable[[random.Random, str, DrawnProduct], str]] = {
    "boilerplate": _add_boilerplate,
    "typo": _typo,
    "casing": _recase,
}
