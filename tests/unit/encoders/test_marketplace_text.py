"""encoders.marketplace_text: seller titles read as the product, on real Shopee-style titles."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from encoders import marketplace_text
from encoders.marketplace_text import is_boilerplate, normalised_tokens


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("[READY STOCK] Tas Selempang Wanita Hitam ORIGINAL 100% COD", ["bag", "sling", "women", "black"]),
        ("❤COD❤ Jam Tangan Pria Murah!!!", ["watch", "men"]),
        ("★ PROMO ★ Kaos Anak2 Putih - Grosir Termurah", ["tshirt", "kids", "white"]),
        ("Sepatu Wanita abu-abu / merah muda", ["shoes", "women", "grey", "pink"]),
        ("Celana Dalam Pria BIORTEX Isi 3 Pcs", ["underwear", "men", "biortex", "3pcs"]),
        ("Lavazza Qualità Rossa 1,5kg", ["lavazza", "qualita", "rossa", "1.5kg"]),
        ("Sony WH-1000XM5 Headphones Black", ["sony", "wh", "1000xm5", "headphones", "black"]),
        ("Serum Wajah Niacinamide 10% 20ml", ["serum", "face", "niacinamide", "10%", "20ml"]),
        ("Sabun Mandi MURAHHH free ongkir bisa cod", ["soap", "bath"]),
    ],
)
def test_titles_lose_boilerplate_and_meet_in_english(title: str, expected: list[str]) -> None:
    assert normalised_tokens(title) == expected


@pytest.mark.parametrize(
    ("spellings", "token"),
    [
        (["500g", "500 g", "500gr", "500 GR", "500 gram", "500Gram", "500 grm", "500 grams"], "500g"),
        (["1kg", "1 KG", "1 kilo", "1 kilogram", "1kgs"], "1kg"),
        (["250ml", "250 ML", "250 mili", "250 mililiter"], "250ml"),
        (["1.5l", "1,5 L", "1.5 liter", "1,5 ltr", "1.50 litre"], "1.5l"),
        (["12pcs", "12 pcs", "12 pc", "12 pieces", "12 biji", "12 lembar", "12 sachet", "isi 12", "12's"], "12pcs"),
        (["1 lusin", "1 dozen"], "12pcs"),
        (["10000mah", "10.000 mAh", "10,000mAh"], "10000mah"),
        (["55 in", "55 inch", "55inches"], "55inch"),
    ],
)  # fmt: skip
def test_units_take_one_spelling_glued_to_their_number(spellings: list[str], token: str) -> None:
    for spelling in spellings:
        assert normalised_tokens(f"Produk {spelling}") == ["produk", token], spelling


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Alat Pijat 5 in 1", ["alat", "pijat", "5", "in", "1"]),  # "in" before a number is not inches
        ("Case iPhone 6s", ["case", "iphone", "6s"]),  # a glued "s" is a model, not a count
        ("Tempered Glass Poco X3 x12", ["tempered", "glass", "poco", "x3", "x12"]),
        ("Masker isi 500 ml", ["mask", "500ml"]),  # "isi" before an amount is dropped, not a count
        ("Double Tape 3M VHB 215.30.46", ["double", "tape", "3m", "vhb", "215", "30", "46"]),
        ("Keripik buah 3 buah", ["keripik", "fruit", "3pcs"]),  # "buah" is fruit, or pieces after a number
    ],
)
def test_near_misses_keep_what_they_say(title: str, expected: list[str]) -> None:
    assert normalised_tokens(title) == expected


def test_boilerplate_words() -> None:
    assert all(is_boilerplate(word) for word in ["COD", "murah", "Termurah", "promo", "grosir", "bisa", "ORI", "dan"])
    assert not any(is_boilerplate(word) for word in ["tas", "black", "500g", "samsung", "premium"])


def test_every_english_form_reads_as_itself() -> None:
    """Indonesian and English titles meet only if the English forms are left alone."""
    forms = set(marketplace_text._WORDS.values())
    forms |= {word for replacement in marketplace_text._PHRASES.values() for word in replacement}
    assert len(marketplace_text._WORDS) >= 150
    assert {form: normalised_tokens(form) for form in forms} == {form: [form] for form in forms}


_product_words = st.lists(
    st.sampled_from(["tas", "Hitam", "sepatu", "Samsung", "500gr", "1,5 kg", "isi 12", "ST4000NE001", "kaos", "biru"]),
    min_size=1,
    max_size=6,
).map(" ".join)
_decorations = st.lists(
    st.sampled_from(["READY STOCK", "ORIGINAL 100%", "COD", "❤", "[ ]", "★★", "murah", "free ongkir", "!!!", "|"]),
    max_size=3,
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(title=_product_words, before=_decorations, after=_decorations)
def test_decoration_and_boilerplate_never_change_the_tokens(title: str, before: str, after: str) -> None:
    assert normalised_tokens(f"{before} {title} {after}") == normalised_tokens(title)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=120))
def test_any_text_gives_plain_lower_case_tokens(text: str) -> None:
    tokens = normalised_tokens(text)
    assert all(token and token == token.lower() and token.isascii() and not is_boilerplate(token) for token in tokens)
    assert all(token.replace(".", "").rstrip("%").isalnum() for token in tokens)
