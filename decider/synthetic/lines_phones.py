"""Catalogue data: mobile phones and the accessories that fit them (cases, screen protectors, chargers)."""

from __future__ import annotations

from decider.synthetic.categories import ACCESSORIES, PHONES
from decider.synthetic.vocabulary import (
    ProductLine,
    colours,
    count,
    devices,
    line,
    milliamp_hours,
    storage,
    watts,
)


def _samsung_phone_storage(gb: int) -> str:
    return {128: "D", 256: "G", 512: "C", 1000: "F"}[gb]


# fmt: off
def phone_lines() -> list[ProductLine]:
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
    result = [line(p, "Apple", name, "Unlocked", apple, storage(*caps), colours(cols), price=price) for name, caps,
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
        result.append(line(p, "Samsung", name, "Unlocked Smartphone", model,
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
        result.append(line(p, brand, name, noun, model, storage(*caps), colours(cols), price=price))
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


def accessory_lines() -> list[ProductLine]:
    a = ACCESSORIES
    return [
        line(a, "Spigen", "Ultra Hybrid", "Case", "ACS{serial}", devices(*_ALL_PHONES),
              colours(("Crystal Clear", "Matte Black", "Frost Clear")), price=12),
        line(a, "Spigen", "Tough Armor", "Case", "ACS{serial}", devices(*_ALL_PHONES),
              colours(("Black", "Gunmetal", "Metal Slate")), price=16),
        line(a, "Spigen", "Liquid Air", "Case", "ACS{serial}", devices(*_ALL_PHONES),
              colours(("Matte Black", "Navy Blue", "Abyss Green")), price=11),
        line(a, "OtterBox", "Defender Series", "Rugged Case", "77-{serial}", devices(*_ALL_PHONES),
              colours(("Black", "Blue", "Purple")), price=39),
        line(a, "OtterBox", "Symmetry Series", "Case with MagSafe", "77-{serial}", devices(*_IPHONES),
              colours(("Black", "Clear", "Pink")), price=34),
        line(a, "ESR", "Classic Hybrid", "Case with HaloLock", "ESR{serial}", devices(*_ALL_PHONES),
              colours(("Clear", "Frosted Black")), price=13),
        line(a, "UAG", "Monarch", "Rugged Case", "11{serial}", devices(*_ALL_PHONES),
              colours(("Black", "Carbon Fiber", "Kevlar Black")), price=49),
        line(a, "Apple", "", "Silicone Case with MagSafe", "M{serial}ZM/A", devices(*_IPHONES),
              colours(("Black", "Storm Blue", "Clay", "Light Pink", "Guava", "Cypress")), price=49),
        line(a, "Samsung", "", "Silicone Case", "EF-P{serial}TBEGWW", devices(*_GALAXIES),
              colours(("Black", "Lavender", "Mint", "Cream")), price=24),
        line(a, "Spigen", "GLAS.tR EZ Fit", "Tempered Glass Screen Protector", "AGL{serial}", devices(*_ALL_PHONES),
              count("Pack", 1, 2), price=12),
        line(a, "ESR", "", "Tempered Glass Screen Protector", "ESR{serial}", devices(*_ALL_PHONES),
              count("Pack", 2, 3), price=9),
        line(a, "Belkin", "ScreenForce UltraGlass 2", "Screen Protector", "SFA{serial}",
              devices(*_IPHONES, *_GALAXIES), count("Pack", 1), price=29),
        line(a, "Anker", "Nano", "USB-C Charger", "A{serial}", watts(20, 30, 45, 65),
              colours(("Black", "White", "Misty Blue", "Aurora White")), price=15),
        line(a, "Apple", "", "USB-C Power Adapter", "M{serial}B/A", watts(20, 35, 70, 96), price=19),
        line(a, "Anker", "PowerCore", "Portable Charger Power Bank", "A1{serial}",
              milliamp_hours(5000, 10000, 20000, 26800), colours(("Black", "White", "Blue")), price=19),
        line(a, "INIU", "", "Portable Charger Power Bank USB-C", "BI-{serial}", milliamp_hours(10000, 20000, 27000),
              colours(("Black", "Blue", "Pink")), price=17),
    ]

# fmt: on
