"""Catalogue data: storage drives (hard drives, SSDs, memory cards, flash drives) and laptops.

Each row is a real product line; its capacity and colour codes are encoded into the model number
the way the manufacturer does it (WD40EFZX, MZ-77E1T0B/EU).
"""

from __future__ import annotations

from decider.synthetic.categories import LAPTOPS, STORAGE
from decider.synthetic.vocabulary import ProductLine, colours, line, ram, ssd, storage


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


# fmt: off
def storage_lines() -> list[ProductLine]:
    s, nas, desk = STORAGE, '3.5" NAS Internal Hard Drive', '3.5" Desktop Internal Hard Drive'
    hdd_tb = lambda *tb: tuple(t * 1000 for t in tb)  # noqa: E731 - a local shorthand for the table
    return [
        line(s, "WD", "Red Plus", nas, "WD{capacity}EFZX", storage(*hdd_tb(2, 3, 4, 6, 8, 10, 12, 14), code=_wd_hdd),
              price=79),
        line(s, "WD", "Red Pro", nas, "WD{capacity}1KFGX",
              storage(*hdd_tb(2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22), code=_wd_hdd), price=109),
        line(s, "WD", "Purple", '3.5" Surveillance Hard Drive', "WD{capacity}PURZ",
              storage(*hdd_tb(1, 2, 3, 4, 6, 8), code=_wd_hdd), price=52),
        line(s, "WD", "Blue", desk, "WD{capacity}EZAZ", storage(*hdd_tb(1, 2, 3, 4, 6, 8), code=_wd_hdd), price=42),
        line(s, "WD", "Gold", '3.5" Enterprise Hard Drive', "WD{capacity}1FYYG",
              storage(*hdd_tb(1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20), code=_wd_hdd), price=99),
        line(s, "Seagate", "IronWolf", nas, "ST{capacity}VN006", storage(*hdd_tb(1, 2, 3, 4, 6, 8, 10, 12)), price=59),
        line(s, "Seagate", "IronWolf Pro", nas, "ST{capacity}NT001",
              storage(*hdd_tb(2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24)), price=99),
        line(s, "Seagate", "BarraCuda", desk, "ST{capacity}DM008", storage(*hdd_tb(1, 2, 3, 4, 6, 8)), price=45),
        line(s, "Seagate", "SkyHawk", '3.5" Surveillance Hard Drive', "ST{capacity}VX015",
              storage(*hdd_tb(1, 2, 3, 4, 6, 8)), price=49),
        line(s, "Seagate", "Exos 7E10", '3.5" Enterprise Hard Drive', "ST{capacity}NM000B",
              storage(*hdd_tb(2, 4, 6, 8, 10)), price=89),
        line(s, "Toshiba", "N300", nas, "HDWG4{capacity}0UZSVA",
              storage(*hdd_tb(4, 6, 8, 10, 12, 14, 16, 18), code=_tb), price=99),
        line(s, "Toshiba", "P300", desk, "HDWD1{capacity}0UZSVA", storage(*hdd_tb(1, 2, 3, 4, 6), code=_tb), price=44),
        line(s, "Toshiba", "X300", '3.5" Performance Internal Hard Drive', "HDWR4{capacity}0UZSVA",
              storage(*hdd_tb(4, 6, 8, 10, 12, 14, 16, 18), code=_tb), price=109),
        line(s, "Samsung", "870 EVO", '2.5" SATA III Internal Solid State Drive', "MZ-77E{capacity}B/EU",
              storage(250, 500, 1000, 2000, 4000, code=_samsung_capacity), price=39),
        line(s, "Samsung", "870 QVO", '2.5" SATA III Internal Solid State Drive', "MZ-77Q{capacity}BW",
              storage(1000, 2000, 4000, 8000, code=_samsung_capacity), price=69),
        line(s, "Samsung", "980", "M.2 NVMe Internal Solid State Drive", "MZ-V8V{capacity}BW",
              storage(250, 500, 1000, code=_samsung_capacity), price=35),
        line(s, "Samsung", "980 PRO", "PCIe 4.0 M.2 NVMe Internal Solid State Drive", "MZ-V8P{capacity}BW",
              storage(250, 500, 1000, 2000, code=_samsung_capacity), price=49),
        line(s, "Samsung", "990 PRO", "PCIe 4.0 M.2 NVMe Internal Solid State Drive", "MZ-V9P{capacity}BW",
              storage(1000, 2000, 4000, code=_samsung_capacity), price=99),
        line(s, "Samsung", "990 EVO", "PCIe 5.0 M.2 NVMe Internal Solid State Drive", "MZ-V9E{capacity}BW",
              storage(1000, 2000, code=_samsung_capacity), price=79),
        line(s, "Crucial", "MX500", '2.5" SATA Internal SSD', "CT{capacity}MX500SSD1",
              storage(250, 500, 1000, 2000, 4000), price=32),
        line(s, "Crucial", "P3", "PCIe 3.0 M.2 NVMe Internal SSD", "CT{capacity}P3SSD8",
              storage(500, 1000, 2000, 4000), price=33),
        line(s, "Crucial", "P3 Plus", "PCIe 4.0 M.2 NVMe Internal SSD", "CT{capacity}P3PSSD8",
              storage(500, 1000, 2000, 4000), price=37),
        line(s, "Crucial", "T500", "PCIe Gen4 NVMe M.2 Internal SSD", "CT{capacity}T500SSD8",
              storage(500, 1000, 2000), price=49),
        line(s, "Crucial", "T700", "PCIe Gen5 NVMe M.2 Internal SSD", "CT{capacity}T700SSD3",
              storage(1000, 2000, 4000), price=139),
        line(s, "Kingston", "A400", '2.5" SATA 3 Internal Solid State Drive', "SA400S37/{capacity}G",
              storage(120, 240, 480, 960, 1920), price=19),
        line(s, "Kingston", "NV2", "PCIe 4.0 NVMe M.2 Internal SSD", "SNV2S/{capacity}G",
              storage(250, 500, 1000, 2000, 4000), price=25),
        line(s, "WD", "Blue SA510", '2.5" SATA Internal Solid State Drive', "WDS{capacity}3B0A",
              storage(250, 500, 1000, 2000, code=_wd_ssd), price=30),
        line(s, "WD", "Black SN850X", "PCIe Gen4 NVMe Internal Gaming SSD", "WDS{capacity}2X0E",
              storage(1000, 2000, 4000, code=_wd_ssd), price=79),
        line(s, "WD", "Blue SN580", "PCIe Gen4 NVMe Internal SSD", "WDS{capacity}3B0E",
              storage(250, 500, 1000, 2000, code=_wd_ssd), price=29),
        line(s, "SanDisk", "Ultra 3D", '2.5" SATA III Internal SSD', "SDSSDH3-{capacity}-G26",
              storage(250, 500, 1000, 2000, 4000, code=_sandisk_capacity), price=35),
        line(s, "SanDisk", "Ultra", "microSDXC UHS-I Memory Card with Adapter", "SDSQUAB-{capacity}-GN6MA",
              storage(32, 64, 128, 256, 512, 1000, code=_sandisk_capacity), price=7),
        line(s, "SanDisk", "Extreme", "microSDXC UHS-I A2 Memory Card", "SDSQXAV-{capacity}-GN6MA",
              storage(64, 128, 256, 512, 1000, code=_sandisk_capacity), price=12),
        line(s, "SanDisk", "Extreme PRO", "SDXC UHS-I Memory Card", "SDSDXXD-{capacity}-GN4IN",
              storage(64, 128, 256, 512, 1000, code=_sandisk_capacity), price=16),
        line(s, "Samsung", "EVO Plus", "microSDXC Memory Card with SD Adapter", "MB-MC{capacity}SA/EU",
              storage(64, 128, 256, 512), price=9),
        line(s, "Samsung", "PRO Plus", "microSDXC Memory Card", "MB-MD{capacity}SA/EU", storage(128, 256, 512),
              price=17),
        line(s, "SanDisk", "Ultra Flair", "USB 3.0 Flash Drive", "SDCZ73-{capacity}-G46",
              storage(16, 32, 64, 128, 256, 512, code=_sandisk_capacity), price=6),
        line(s, "Kingston", "DataTraveler Exodia", "USB 3.2 Flash Drive", "DTX/{capacity}GB",
              storage(32, 64, 128, 256), price=5),
        line(s, "Samsung", "T7", "Portable SSD USB 3.2 Gen 2", "MU-PC{capacity}{colour}/WW",
              storage(500, 1000, 2000, code=_samsung_capacity),
              colours({"Titan Grey": "T", "Indigo Blue": "H", "Metallic Red": "R"}), price=69),
        line(s, "WD", "My Passport", "Portable External Hard Drive USB 3.0", "WDBYVG00{capacity}0{colour}-WESN",
              storage(1000, 2000, 4000, 5000, code=_tb),
              colours({"Black": "BBK", "Blue": "BBL", "Red": "RRD", "White": "WWT"}), price=49),
        line(s, "Seagate", "Expansion Desktop", "External Hard Drive USB 3.0", "STKP{capacity}400",
              storage(*hdd_tb(4, 6, 8, 10, 12, 14, 16, 18, 20)), price=89),
        line(s, "Seagate", "One Touch", "Portable External Hard Drive", "STKY{capacity}40{colour}",
              storage(1000, 2000, 4000, 5000),
              colours({"Black": "0", "Blue": "2", "Red": "3", "Silver": "4"}), price=55),
    ]



def laptop_lines() -> list[ProductLine]:
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
        lines.append(line(lp, brand, family, family_noun, model, *axes, price=price))
    return lines

# fmt: on
