"""Marketplace titles read as the product they name, not as the seller advertised it.

Sellers wrap the same product in their own boilerplate ("READY STOCK", "ORIGINAL 100%", "COD", "murah"),
spell units many ways ("500gr", "500 gram", "0,5 kg"), mix Indonesian and English ("tas hitam" / "black
bag") and decorate with emoji and brackets. :func:`normalised_tokens` strips all that so that two titles
of one product share their words. Pure standard library: it runs once per listing on the worker's path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping

# A decimal ("1,5" "4.5"; not one part of "215.30.46"), a percentage, or a run of letters and digits.
_TOKEN = re.compile(r"(?<![\w.,])\d+[.,]\d+(?![.,]?\d)%?|\d+%|[a-z0-9]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NUMBER_THEN_LETTERS = re.compile(r"(\d+(?:\.\d+)?)([a-z]+)")
# "12's" (twelve pieces) before the apostrophe is lost; a glued "6s" stays a model name.
_APOSTROPHE_S = re.compile(r"(\d)\s*['’`]\s*s\b")
_REPEATED_TAIL = re.compile(r"([a-hj-wyz])\1{2,}$")  # "murahhh" -> "murah"; never "xxxl" or "mark iii"

# Unit spellings after a number -> one spelling per unit. Values are not converted ("1kg" stays "1kg"):
# decider.features.quantities compares the amounts.
_UNITS: Mapping[str, str] = {
    "g": "g", "gr": "g", "grm": "g", "gram": "g", "grams": "g", "gramm": "g", "gms": "g",
    "kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg", "mg": "mg",
    "ml": "ml", "mili": "ml", "mls": "ml", "mililiter": "ml", "milliliter": "ml", "millilitre": "ml",
    "l": "l", "lt": "l", "ltr": "l", "liter": "l", "liters": "l", "litre": "l", "litres": "l",
    "mm": "mm", "cm": "cm", "m": "m", "meter": "m", "meters": "m", "metre": "m", "mtr": "m",
    "pcs": "pcs", "pc": "pcs", "piece": "pcs", "pieces": "pcs", "biji": "pcs", "lembar": "pcs", "lbr": "pcs",
    "sachet": "pcs", "sachets": "pcs", "butir": "pcs", "buah": "pcs", "pack": "pcs", "packs": "pcs",
    "pk": "pcs", "ct": "pcs", "count": "pcs",
    "tb": "tb", "gb": "gb", "mb": "mb", "mah": "mah", "w": "w", "watt": "w", "watts": "w",
    "v": "v", "volt": "v", "volts": "v", "inch": "inch", "inches": "inch", "in": "inch", "hz": "hz",
    "khz": "khz", "mhz": "mhz", "ghz": "ghz",
}  # fmt: skip
_DOZEN = frozenset({"lusin", "dozen"})  # "2 lusin" -> "24pcs"

# Words that describe the sale, not the product, and function words of both languages. Not "disc", "free"
# or "ready" alone: English catalogs sell 5-disc changers, hands-free kits and HD-ready TVs.
_BOILERPLATE = frozenset(
    """
    readystock stok cod murah murmer meriah termurah promo promosi grosir grosiran bisa ongkir
    gratis sale diskon discount obral terlaris laris bestseller original ori asli genuine new terbaru baru
    kekinian viral hits jual dijual harga hemat banget bgt sekali bagus terbagus keren mantap terbaik
    berkualitas kualitas bpom resmi garansi import impor dropship reseller agen distributor seller ecer
    eceran 100%
    """.split()
)
_STOPWORDS = frozenset(
    "dan atau untuk utk buat dengan dgn di ke dari yang yg ini itu juga ada and or for with the of a an by".split()
)

# Word sequences read as one thing (an empty replacement drops them). Matched before single words.
_PHRASES: Mapping[tuple[str, ...], tuple[str, ...]] = {
    ("ready", "stock"): (), ("ready", "stok"): (), ("stock", "ready"): (), ("in", "stock"): (),
    ("free", "ongkir"): (), ("free", "shipping"): (), ("free", "gift"): (), ("free", "bubble"): (),
    ("best", "seller"): (), ("best", "quality"): (), ("high", "quality"): (), ("big", "sale"): (),
    ("flash", "sale"): (), ("hot", "sale"): (), ("new", "arrival"): (), ("brand", "new"): (),
    ("siap", "kirim"): (), ("bayar", "di", "tempat"): (), ("bayar", "ditempat"): (),
    ("jam", "tangan"): ("watch",), ("jam", "dinding"): ("clock",), ("kaca", "mata"): ("glasses",),
    ("sikat", "gigi"): ("toothbrush",), ("pasta", "gigi"): ("toothpaste",), ("sarung", "tangan"): ("gloves",),
    ("kaos", "kaki"): ("socks",), ("kaus", "kaki"): ("socks",), ("celana", "dalam"): ("underwear",),
    ("pakaian", "dalam"): ("underwear",), ("t", "shirt"): ("tshirt",), ("tas", "ransel"): ("backpack",),
    ("kipas", "angin"): ("fan",), ("tahan", "air"): ("waterproof",), ("anti", "air"): ("waterproof",),
    ("isi", "ulang"): ("refill",), ("tempat", "sampah"): ("bin",), ("laki", "laki"): ("men",),
    ("merah", "muda"): ("pink",), ("abu", "abu"): ("grey",), ("biru", "dongker"): ("navy",),
    ("biru", "donker"): ("navy",), ("biru", "muda"): ("light", "blue"), ("biru", "tua"): ("dark", "blue"),
    ("hijau", "muda"): ("light", "green"), ("hijau", "tua"): ("dark", "green"),
    ("abu", "muda"): ("light", "grey"), ("abu", "tua"): ("dark", "grey"), ("coklat", "tua"): ("dark", "brown"),
    ("coklat", "muda"): ("light", "brown"),
}  # fmt: skip
_LONGEST_PHRASE = max(len(words) for words in _PHRASES)
_PHRASE_STARTS = frozenset(words[0] for words in _PHRASES)

# Indonesian words and English variants -> one English form: the commonest product words of Shopee titles.
_WORDS: Mapping[str, str] = {
    # people
    "wanita": "women", "perempuan": "women", "cewek": "women", "cewe": "women", "woman": "women",
    "ladies": "women", "lady": "women", "female": "women", "pria": "men", "cowok": "men", "cowo": "men",
    "laki": "men", "man": "men", "male": "men", "anak": "kids", "kid": "kids", "children": "kids",
    "child": "kids", "bayi": "baby", "balita": "toddler", "dewasa": "adult",
    # clothes, shoes, bags, accessories
    "baju": "clothes", "pakaian": "clothes", "kaos": "tshirt", "kaus": "tshirt", "tee": "tshirt",
    "celana": "pants", "trousers": "pants", "kemeja": "shirt", "jaket": "jacket", "rok": "skirt",
    "gaun": "dress", "topi": "hat", "sepatu": "shoes", "shoe": "shoes", "sandal": "sandals", "sendal": "sandals",
    "tas": "bag", "bags": "bag", "dompet": "wallet", "ransel": "backpack", "kacamata": "glasses",
    "kerudung": "hijab", "jilbab": "hijab", "piyama": "pajamas", "kalung": "necklace", "gelang": "bracelet",
    "cincin": "ring", "anting": "earrings", "lengan": "sleeve", "panjang": "long", "pendek": "short",
    "selempang": "sling", "ukuran": "size", "uk": "size", "warna": "colour", "color": "colour",
    "paket": "bundle", "polos": "plain",
    # body care and cosmetics
    "rambut": "hair", "wajah": "face", "muka": "face", "mata": "eye", "bibir": "lip", "gigi": "teeth",
    "tangan": "hand", "kaki": "foot", "badan": "body", "tubuh": "body", "sabun": "soap", "masker": "mask",
    "krim": "cream", "bedak": "powder", "minyak": "oil", "parfum": "perfume", "pembersih": "cleanser",
    "pemutih": "whitening", "sampo": "shampoo", "sikat": "brush", "kuas": "brush", "sisir": "comb",
    "cukur": "shaver",
    # home and kitchen
    "lampu": "lamp", "botol": "bottle", "gelas": "glass", "kaca": "glass", "cangkir": "cup", "piring": "plate",
    "mangkok": "bowl", "mangkuk": "bowl", "sendok": "spoon", "garpu": "fork", "pisau": "knife", "panci": "pot",
    "wajan": "pan", "kotak": "box", "rak": "rack", "meja": "table", "kursi": "chair", "lemari": "cabinet",
    "cermin": "mirror", "gantungan": "hanger", "kipas": "fan", "payung": "umbrella", "keranjang": "basket",
    "karpet": "carpet", "tikar": "mat", "gorden": "curtain", "tirai": "curtain", "handuk": "towel",
    "selimut": "blanket", "bantal": "pillow", "kasur": "mattress", "sprei": "bedsheet", "seprei": "bedsheet",
    "dapur": "kitchen", "mandi": "bath",
    # food and drink
    "kopi": "coffee", "teh": "tea", "susu": "milk", "gula": "sugar", "madu": "honey", "telur": "egg",
    "ayam": "chicken", "ikan": "fish", "daging": "meat", "sapi": "beef", "keju": "cheese", "kue": "cake",
    "roti": "bread", "bumbu": "seasoning", "garam": "salt", "beras": "rice", "mie": "noodles",
    "minuman": "drink", "makanan": "food", "buah": "fruit", "sayur": "vegetable", "kacang": "nuts",
    "pedas": "spicy", "manis": "sweet", "rasa": "flavour", "bubuk": "powder", "cair": "liquid",
    "vanila": "vanilla", "stroberi": "strawberry", "anggur": "grape",
    # electronics, stationery, toys, materials
    "kabel": "cable", "casing": "case", "pelindung": "protector", "layar": "screen", "baterai": "battery",
    "batre": "battery", "batere": "battery", "casan": "charger", "handphone": "phone", "ponsel": "phone",
    "kamera": "camera", "listrik": "electric", "elektrik": "electric", "mainan": "toy", "boneka": "doll",
    "buku": "book", "kertas": "paper", "pensil": "pencil", "pulpen": "pen", "pena": "pen", "stiker": "sticker",
    "tisu": "tissue", "plastik": "plastic", "kayu": "wood", "besi": "iron", "karet": "rubber", "kain": "fabric",
    "katun": "cotton", "silikon": "silicone", "mobil": "car", "sepeda": "bicycle", "kucing": "cat",
    "anjing": "dog", "bunga": "flower", "tanaman": "plant",
    # shape and size
    "kecil": "small", "besar": "big", "tebal": "thick", "tipis": "thin", "bulat": "round", "lipat": "foldable",
    "tanpa": "without",
    # colours (decider.features.profile maps the English names to its colours)
    "hitam": "black", "putih": "white", "merah": "red", "biru": "blue", "hijau": "green", "kuning": "yellow",
    "ungu": "purple", "oranye": "orange", "oren": "orange", "orens": "orange", "jingga": "orange",
    "abu": "grey", "emas": "gold", "perak": "silver", "coklat": "brown", "cokelat": "brown", "krem": "cream",
    "tosca": "teal", "toska": "teal", "marun": "maroon", "dongker": "navy", "donker": "navy",
}  # fmt: skip


def is_boilerplate(word: str) -> bool:
    """True for a word :func:`normalised_tokens` drops: seller boilerplate or a function word."""
    word = word.lower()
    return word in _BOILERPLATE or word in _STOPWORDS


def normalised_tokens(text: str) -> list[str]:
    """The words of ``text`` that name the product, in order, in one spelling.

    Lower-cased and accent-folded; emoji, decoration and seller boilerplate dropped; a unit glued to
    its number in one spelling ("500 gram" -> "500g", "isi 12" -> "12pcs"); Indonesian words in
    their English form ("tas hitam" -> "bag black").
    """
    words = [_canonical_word(word) for word in _phrases(list(_split(_fold(text))))]
    kept: list[str] = []
    for token in _with_units(words):
        if token not in _BOILERPLATE and token not in _STOPWORDS and (not kept or kept[-1] != token):
            kept.append(token)
    return kept


def _fold(text: str) -> str:
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(character for character in decomposed if not unicodedata.combining(character))
    return _APOSTROPHE_S.sub(r"\1 pcs", text.lower())


def _split(text: str) -> Iterator[str]:
    """Tokens with decimals in one form and a glued unit split off: "1,5kg" -> "1.5", "kg"."""
    for token in _TOKEN.findall(text):
        if token[0].isdigit():
            glued = _NUMBER_THEN_LETTERS.fullmatch(token)
            if glued and (glued.group(2) in _UNITS or glued.group(2) in _DOZEN):
                yield _decimal(glued.group(1))
                yield glued.group(2)
                continue
            if "." in token or "," in token:
                token = _decimal(token)
        repeated = len(token) > 4 and token[-1] == token[-2] == token[-3]
        yield _REPEATED_TAIL.sub(r"\1", token) if repeated else token


def _decimal(number: str) -> str:
    """'1,5' -> '1.5', '2.50' -> '2.5'; three digits after the mark are thousands: '10.000' -> '10000'."""
    percent = "%" if number.endswith("%") else ""
    number = number.rstrip("%").replace(",", ".")
    whole, _, fraction = number.partition(".")
    if len(fraction) == 3 and not whole.startswith("0"):
        return whole + fraction + percent
    fraction = fraction.rstrip("0")
    return (f"{whole}.{fraction}" if fraction else whole) + percent


def _phrases(words: list[str]) -> Iterator[str]:
    """Multi-word expressions replaced, longest first; "anak2" (Indonesian plural) read as "anak"."""
    words = [_singular(word) for word in words]
    index = 0
    while index < len(words):
        if words[index] not in _PHRASE_STARTS:
            yield words[index]
            index += 1
            continue
        for length in range(min(_LONGEST_PHRASE, len(words) - index), 1, -1):
            replacement = _PHRASES.get(tuple(words[index : index + length]))
            if replacement is not None:
                yield from replacement
                index += length
                break
        else:
            yield words[index]
            index += 1


def _singular(word: str) -> str:
    if not word.endswith("2"):
        return word
    stem = word[:-1]
    return stem if stem in _WORDS or stem in _BOILERPLATE else word


def _canonical_word(word: str) -> str:
    return _WORDS.get(word, word)


def _with_units(words: list[str]) -> Iterator[str]:
    """Numbers glued to the unit after them; "isi 12" and "2 lusin" read as pieces."""
    index = 0
    while index < len(words):
        word = words[index]
        following = words[index + 1] if index + 1 < len(words) else None
        if word == "isi" and following is not None and _NUMBER.fullmatch(following):
            unit = _unit_after(words, index + 1)
            if unit is None:  # "isi 12": a count; "isi 500 ml" is the amount alone
                yield f"{following}pcs"
                index += 2
                continue
            index += 1
            continue
        if _NUMBER.fullmatch(word):
            unit = _unit_after(words, index)
            if unit is not None:
                yield _glued(word, unit)
                index += 2
                continue
        yield word
        index += 1


def _unit_after(words: list[str], index: int) -> str | None:
    """The unit written after the number at ``index`` ("in" only when no number follows: "5 in 1")."""
    if index + 1 >= len(words):
        return None
    unit = words[index + 1]
    if unit == "in" and index + 2 < len(words) and words[index + 2][:1].isdigit():
        return None
    if unit in _DOZEN:
        return unit
    # "buah" became "fruit" in the word table; after a number it is a count again.
    return _UNITS.get("buah" if unit == "fruit" else unit)


def _glued(number: str, unit: str) -> str:
    if unit in _DOZEN:
        return f"{_decimal(str(float(number) * 12))}pcs"
    return f"{number}{unit}"
