"""Catalogue data: televisions, headphones and kitchen appliances."""

from __future__ import annotations

from decider.synthetic.categories import HEADPHONES, KITCHEN, TVS
from decider.synthetic.vocabulary import ProductLine, colours, line, load, screen, series, volume


# fmt: off
def tv_lines() -> list[ProductLine]:
    rows = [  # brand, family, noun, model pattern, sizes, series (older and cheaper first), price
        ("Samsung", "", "QLED 4K HDR Smart TV", "QE{size}{series}ATXXU", (43, 50, 55, 65, 75, 85),
         ("Q60C", "Q60D", "Q65C", "Q70C", "Q70D", "Q77C", "Q80C", "Q80D"), 449),
        ("Samsung", "Neo QLED", "4K HDR Smart TV", "QE{size}{series}ATXXU", (50, 55, 65, 75, 85),
         ("QN85C", "QN85D", "QN90C", "QN90D", "QN95C", "QN95D"), 999),
        ("Samsung", "Crystal UHD", "4K HDR Smart TV", "UE{size}{series}KXXU", (43, 50, 55, 58, 65, 70, 75, 85),
         ("AU7100", "BU8000", "CU7100", "CU8000", "DU7100", "DU8000", "DU9000"), 299),
        ("Samsung", "", "OLED 4K HDR Smart TV", "QE{size}{series}ATXXU", (55, 65, 77),
         ("S90C", "S90D", "S92C", "S95C", "S95D"), 1199),
        ("LG", "OLED evo", "4K Smart TV", "OLED{size}{series}6LA", (42, 48, 55, 65, 77, 83),
         ("A2", "B2", "B3", "B4", "C2", "C3", "C4", "G2", "G3", "G4"), 899),
        ("LG", "", "4K QNED MiniLED Smart TV", "{size}{series}6RE", (43, 50, 55, 65, 75, 86),
         ("QNED75", "QNED80", "QNED81", "QNED82", "QNED86", "QNED91"), 499),
        ("LG", "UHD", "4K LED Smart TV", "{size}{series}6LK", (43, 50, 55, 65, 75),
         ("UP75", "UQ75", "UR73", "UR78", "UR80", "UT73", "UT80"), 299),
        ("Sony", "BRAVIA", "4K HDR LED Google TV", "KD-{size}{series}", (43, 50, 55, 65, 75, 85),
         ("X72K", "X75K", "X75WL", "X80K", "X80L", "X81J", "X85J", "X85K", "X85L"), 549),
        ("Sony", "BRAVIA XR", "4K HDR Google TV", "XR-{size}{series}", (55, 65, 75, 77, 83),
         ("X90J", "X90K", "X90L", "X93L", "X95J", "X95K", "A80J", "A80K", "A80L", "A84K", "A95K", "A95L"), 999),
        ("TCL", "", "4K QLED Google TV", "{size}{series}K", (43, 50, 55, 65, 75, 85, 98),
         ("C635", "C645", "C735", "C745", "C805", "C835", "C845", "P635", "P735", "P755"), 279),
        ("Hisense", "", "4K UHD Smart TV", "{size}{series}TUK", (40, 43, 50, 55, 58, 65, 70, 75, 85, 100),
         ("A6BG", "A6K", "A6N", "A7GQ", "A7K", "A85K", "E7KQ", "U6K", "U7K", "U8K", "U8N"), 249),
        ("Philips", "Ambilight", "4K UHD Smart TV", "{size}{series}/12", (43, 50, 55, 65, 75),
         ("PUS7608", "PUS7808", "PUS8108", "PUS8508", "PUS8808", "PUS8908", "OLED707", "OLED807", "OLED808", "OLED908"),
         399),
        ("Panasonic", "", "4K HDR Smart TV", "TX-{size}{series}", (40, 43, 50, 55, 65),
         ("LX650B", "LX700B", "LZ800B", "LZ980B", "MX700B", "MX800B", "MX950B", "MZ1500B", "MZ2000B"), 349),
    ]
    return [
        line(TVS, brand, family, noun, model, screen(*sizes), series(*names), price=price)
        for brand, family, noun, model, sizes, names, price in rows
    ]



def headphone_lines() -> list[ProductLine]:
    h = HEADPHONES
    over_ear_nc = "Wireless Noise Cancelling Headphones"
    return [
        line(h, "Sony", "", over_ear_nc, "{series}/{colour}", series("WH-1000XM4", "WH-1000XM5", step=0.25),
              colours({"Black": "B", "Silver": "S", "Midnight Blue": "L"}), price=229),
        line(h, "Sony", "", "Truly Wireless Noise Cancelling Earbuds", "{series}/{colour}",
              series("WF-1000XM4", "WF-1000XM5", step=0.25),
              colours({"Black": "B", "Silver": "S"}), price=179),
        line(h, "Sony", "", "Wireless Noise Cancelling Headphones", "{series}{colour}.CE7",
              series("WH-CH710N", "WH-CH720N"),
              colours({"Black": "B", "White": "W", "Blue": "L"}), price=79),
        line(h, "Sony", "WF-C700N", "Wireless Noise Cancelling Earbuds", "WFC700N{colour}.CE7",
              colours({"Black": "B", "White": "W", "Lavender": "V", "Sage Green": "G"}), price=79),
        line(h, "Bose", "QuietComfort Ultra", over_ear_nc, "880066-0{colour}00",
              colours({"Black": "1", "White Smoke": "2", "Sandstone": "3", "Lunar Blue": "4"}), price=399),
        line(h, "Bose", "QuietComfort 45", over_ear_nc, "866724-0{colour}00",
              colours({"Black": "1", "White Smoke": "2", "Eclipse Grey": "3"}), price=249),
        line(h, "Bose", "QuietComfort Ultra Earbuds", "Wireless Noise Cancelling Earbuds", "882826-0{colour}10",
              colours({"Black": "1", "White Smoke": "2", "Moonstone Blue": "3"}), price=249),
        line(h, "Apple", "AirPods Max", "Wireless Over-Ear Headphones", "M{serial}ZM/A",
              colours(("Space Grey", "Silver", "Sky Blue", "Pink", "Green")), price=499),
        line(h, "Apple", "", "with MagSafe Charging Case (USB-C)", "M{serial}ZM/A",
              series("AirPods (3rd generation)", "AirPods Pro (2nd generation)", step=0.4), price=169),
        line(h, "Sennheiser", "Momentum 4 Wireless", "Adaptive Noise Cancelling Headphones", "50{colour}",
              colours({"Black": "9266", "White": "9267", "Denim": "9268", "Copper": "9269"}), price=249),
        line(h, "Sennheiser", "", "Wireless Bluetooth Headphones", "{series}-{colour}",
              series("HD 350BT", "HD 450BT", "ACCENTUM"),
              colours({"Black": "BK", "White": "WH"}), price=69),
        line(h, "JBL", "", "Wireless On-Ear Headphones", "JBLT{series}{colour}EU",
              series("Tune 510BT", "Tune 520BT", "Tune 720BT"),
              colours({"Black": "BLK", "White": "WHT", "Blue": "BLU", "Purple": "PUR"}), price=34),
        line(h, "JBL", "", over_ear_nc, "JBL{series}{colour}",
              series("Tune 760NC", "Live 660NC", "Live 770NC", "Tour One M2"),
              colours({"Black": "BLK", "White": "WHT", "Blue": "BLU"}), price=79),
        line(h, "Beats", "Studio Pro", over_ear_nc, "M{serial}ZM/A",
              colours(("Black", "Deep Brown", "Navy", "Sandstone")), price=299),
        line(h, "Beats", "Solo 4", "Wireless On-Ear Headphones", "M{serial}ZM/A",
              colours(("Matte Black", "Slate Blue", "Cloud Pink")), price=169),
        line(h, "Audio-Technica", "", "Professional Studio Monitor Headphones", "{series}{colour}",
              series("ATH-M20x", "ATH-M40x", "ATH-M50x", "ATH-M50xBT2", code=str),
              colours({"Black": "BK", "White": "WH"}), price=49),
        line(h, "Marshall", "", "Wireless On-Ear Headphones", "{series}-{colour}", series("Major IV", "Major V"),
              colours({"Black": "1005773", "Brown": "1005774", "Cream": "1006834"}), price=99),
        line(h, "Jabra", "", "True Wireless Earbuds", "100-99{serial}",
              series("Elite 4", "Elite 8 Active", "Elite 10", "Elite 85t"),
              colours(("Black", "Navy", "Caramel", "Cocoa")), price=79),
        line(h, "Skullcandy", "Crusher Evo", "Wireless Over-Ear Headphones", "S6EVW-{colour}",
              colours({"True Black": "N740", "Chill Grey": "P759"}), price=119),
    ]



def kitchen_lines() -> list[ProductLine]:
    k = KITCHEN
    smeg = {"Black": "BL", "Cream": "CR", "Pastel Blue": "PB", "Red": "RD", "White": "WH", "Pastel Green": "PG"}
    return [
        line(k, "Philips", "Airfryer", "Air Fryer", "{series}/{colour}",
              series("HD9200", "HD9252", "HD9270", "HD9280", "HD9650", "HD9860", step=0.2),
              colours({"Black": "90", "White": "00"}), price=89),
        line(k, "Ninja", "Foodi", "Dual Zone Air Fryer", "{series}UK", series("AF300", "AF400", "AF451", step=0.15),
              price=159),
        line(k, "Tefal", "Easy Fry", "Air Fryer", "{series}40", series("EY501", "EY701", "EY801", step=0.2), price=79),
        line(k, "De'Longhi", "Dedica", "Pump Espresso Coffee Machine", "{series}.{colour}",
              series("EC685", "EC695", "EC885", step=0.2),
              colours({"Black": "BK", "Silver": "M", "Red": "R", "White": "W"}), price=149),
        line(k, "De'Longhi", "Magnifica", "Bean to Cup Coffee Machine", "{series}.B",
              series("ECAM22.110", "ECAM290.61", "ECAM290.81", "ECAM320.60"), price=329),
        line(k, "Nespresso", "Vertuo Pop", "Coffee Machine by Magimix", "11{colour}",
              colours({"Black": "729", "Mango Yellow": "730", "Coconut White": "731", "Aqua Mint": "732",
                       "Candy Pink": "733", "Spicy Red": "734"}),
              price=69),
        line(k, "Nespresso", "Vertuo Next", "Coffee Machine by De'Longhi", "ENV120.{colour}",
              colours({"Black": "B", "Grey": "GY", "White": "W"}), price=99),
        line(k, "KitchenAid", "Artisan", "Tilt-Head Stand Mixer", "5KSM{capacity}PS{colour}",
              volume(4300, 4800, code=lambda ml: {4300: "125", 4800: "175"}[ml]),
              colours({"Empire Red": "EER", "Onyx Black": "EOB", "Almond Cream": "EAC", "Candy Apple": "ECA",
                       "Ice Blue": "EIC", "Pistachio": "EPT", "Matte Black": "EBM", "Contour Silver": "ECU"}),
              price=449),
        line(k, "KitchenAid", "Artisan", "Electric Kettle", "5KEK1565B{colour}", volume(1500),
              colours({"Empire Red": "ER", "Onyx Black": "OB", "Almond Cream": "AC", "Candy Apple": "CA"}), price=149),
        line(k, "Smeg", "50's Style", "Electric Kettle", "KLF03{colour}UK", colours(smeg), price=139),
        line(k, "Smeg", "50's Style", "2 Slice Toaster", "TSF01{colour}UK", colours(smeg), price=139),
        line(k, "Smeg", "50's Style", "4 Slice Toaster", "TSF03{colour}UK", colours(smeg), price=189),
        line(k, "Russell Hobbs", "Honeycomb", "Electric Kettle", "2605{colour}", volume(1700),
              colours({"White": "0", "Black": "1", "Grey": "2", "Cream": "3"}), price=39),
        line(k, "Russell Hobbs", "Inspire", "Electric Kettle", "2436{colour}", volume(1700),
              colours({"Black": "1", "White": "0", "Grey": "2", "Red": "3"}), price=29),
        line(k, "Breville", "Bold", "Electric Kettle", "VKT2{colour}", volume(1700),
              colours({"Black": "21", "White": "22", "Silver": "23", "Blue": "24"}), price=34),
        line(k, "Dualit", "Classic", "Toaster", "DU{serial}", series("2 Slice", "4 Slice", step=0.35),
              colours(("Black", "Cream", "Chrome", "Pebble")), price=189),
        line(k, "Dyson", "", "Cordless Vacuum Cleaner", "39{serial}-01",
              series("V8 Absolute", "V10 Absolute", "V11 Advanced", "V12 Detect Slim", "V15 Detect Absolute", step=0.2),
              price=299),
        line(k, "Ninja", "", "Blender", "{series}UK", series("BN495", "BN610", "BN750", "BL642", step=0.2), price=69),
        line(k, "Instant Pot", "Duo 7-in-1", "Electric Pressure Cooker", "IP-DUO{capacity}-UK",
              volume(3000, 5700, 8000, code=lambda ml: {3000: "30", 5700: "60", 8000: "80"}[ml]), price=79),
        line(k, "Sage", "the Barista Express", "Espresso Machine", "SES875{colour}",
              colours({"Brushed Stainless Steel": "BSS", "Black Truffle": "BTR", "Sea Salt": "SST",
                       "Oyster Shell": "OST"}),
              price=599),
        line(k, "Bosch", "Serie 4", "Freestanding Dishwasher", "SMS4HV{colour}33G",
              colours({"White": "W", "Silver Inox": "I"}), price=449),
        line(k, "Bosch", "Serie 6", "Freestanding Washing Machine 1400rpm", "WGG24{capacity}09GB", load(8, 9, 10),
              price=549),
        line(k, "Samsung", "Series 5", "Freestanding Washing Machine with ecobubble", "WW{capacity}0T534DAW",
              load(8, 9, 10, 11), price=429),
        line(k, "Morphy Richards", "Evoke", "Pyramid Kettle", "10{colour}", volume(1500),
              colours({"Black": "0004", "White": "0005", "Stainless Steel": "0006", "Red": "0007"}), price=39),
    ]

# fmt: on
