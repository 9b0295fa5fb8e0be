"""A listing read once into what the pair features compare: words, trigrams, codes, quantities, brand,
colours, price.

Scoring a query against ten candidates parses the query once (see ``pair_features``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from decider.features.codes import Code, extract_codes
from decider.features.quantities import Quantity, extract_quantities
from encoders.listing import MAX_DESCRIPTION_CHARS, readable
from encoders.marketplace_text import normalised_tokens
from infra.milvus.schema import MAX_CODES_PER_LISTING

_WORD = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
_COLOUR_SYNONYMS: Mapping[str, str] = {
    "black": "black", "blk": "black", "noir": "black", "schwarz": "black", "zwart": "black", "nero": "black",
    "white": "white", "wht": "white", "blanc": "white", "weiss": "white", "wit": "white", "bianco": "white",
    "silver": "silver", "slv": "silver", "grey": "grey", "gray": "grey", "gry": "grey", "graphite": "grey",
    "charcoal": "grey", "blue": "blue", "blu": "blue", "navy": "navy", "red": "red", "burgundy": "red",
    "green": "green", "grn": "green", "khaki": "khaki", "yellow": "yellow", "pink": "pink", "rose": "pink",
    "purple": "purple", "violet": "purple", "plum": "purple", "lavender": "purple", "orange": "orange",
    "gold": "gold", "brown": "brown", "beige": "beige", "cream": "beige", "titanium": "titanium",
    "midnight": "midnight", "starlight": "starlight", "bronze": "bronze", "copper": "copper", "teal": "teal",
    "turquoise": "teal", "coral": "coral", "sand": "sand", "sandstone": "sand", "chestnut": "chestnut",
    "mint": "mint", "sage": "sage", "platinum": "platinum", "olive": "olive", "chrome": "chrome",
    "caramel": "caramel", "ivory": "ivory", "champagne": "champagne", "lilac": "lilac", "cyan": "cyan",
    "magenta": "magenta", "indigo": "indigo", "maroon": "maroon", "pebble": "pebble", "stone": "stone",
    # marketplace fashion colours (Indonesian names arrive in English from encoders.marketplace_text)
    "mocca": "mocca", "moka": "mocca", "mocha": "mocca", "mustard": "mustard", "army": "olive", "salem": "coral",
    "salmon": "coral", "nude": "nude", "fuschia": "magenta", "fuchsia": "magenta",
}  # fmt: skip


def _fold(text: str) -> str:
    """Lower case without accents: 'Qualità' -> 'qualita'."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKD", text)
    return "".join(character for character in folded if not unicodedata.combining(character)).lower()


def _text(listing: Mapping[str, Any], field_name: str) -> str:
    value = listing.get(field_name)
    return value.strip() if isinstance(value, str) else ""


def _letters_and_digits(text: str) -> str:
    """Lower-case text run together without spaces or punctuation: "mz-77e1t0b/eu" -> "mz77e1t0beu"."""
    return "".join(_WORD.findall(text))


def _trigrams(text: str) -> frozenset[str]:
    padded = f" {' '.join(_WORD.findall(text))} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def _price(listing: Mapping[str, Any]) -> float | None:
    value = listing.get("price")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def _model_number_code(model_number: str) -> tuple[Code, ...]:
    """A seller's model_number field is a code whatever its shape ("MPQHYZM/A" has no digit)."""
    normalised = _letters_and_digits(model_number.lower())
    if len(normalised) < 3:
        return ()
    return (Code(normalised, model_number), *extract_codes(model_number))


def _merged_codes(*groups: tuple[Code, ...]) -> tuple[Code, ...]:
    """The groups' codes in order, each once, at most ``MAX_CODES_PER_LISTING``."""
    merged: dict[str, Code] = {}
    for code in (code for group in groups for code in group):
        merged.setdefault(code.normalised, code)
    return tuple(merged.values())[:MAX_CODES_PER_LISTING]


@dataclass(frozen=True)
class ListingProfile:
    """What the features read from one listing, computed once per listing."""

    title: str
    words: frozenset[str]
    first_word: str | None
    trigrams: frozenset[str]
    numbers: frozenset[str]
    codes: tuple[Code, ...]
    compact_text: str  # title + model number + description, letters and digits only
    model_number: str | None
    quantities: Mapping[str, frozenset[Quantity]]
    brand: str | None
    colours: frozenset[str]
    price: float | None
    currency: str | None
    description_words: frozenset[str] | None

    @classmethod
    def of(cls, listing: Mapping[str, Any]) -> ListingProfile:
        title = readable(_text(listing, "title"))
        folded = _fold(title)
        words = normalised_tokens(title)  # boilerplate dropped, units and Indonesian words in one spelling
        joined = " ".join(words)
        model_number = _text(listing, "model_number")
        description = _fold(_text(listing, "description")[:MAX_DESCRIPTION_CHARS])
        brand = _letters_and_digits(_fold(_text(listing, "brand")))
        return cls(
            title=title,
            words=frozenset(words),
            first_word=words[0] if words else None,
            trigrams=_trigrams(joined),
            numbers=frozenset(_DIGITS.findall(joined)),
            codes=_merged_codes(_model_number_code(model_number), extract_codes(title)),
            compact_text=_letters_and_digits(f"{folded} {_fold(model_number)} {description}"),
            model_number=_letters_and_digits(_fold(model_number)) or None,
            quantities=extract_quantities(folded),
            brand=brand or None,
            colours=frozenset(_COLOUR_SYNONYMS[word] for word in words if word in _COLOUR_SYNONYMS),
            price=_price(listing),
            currency=_text(listing, "currency").upper() or None,
            description_words=frozenset(_WORD.findall(description)) if description else None,
        )
