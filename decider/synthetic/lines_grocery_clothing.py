"""Catalogue data: packaged groceries and household goods (identified by EAN), clothing and shoes."""

from __future__ import annotations

from decider.synthetic.categories import CLOTHING, GROCERY
from decider.synthetic.vocabulary import (
    ProductLine,
    apparel_sizes,
    colours,
    colourways,
    count,
    legs,
    line,
    nappy_sizes,
    shoe_sizes,
    volume,
    waists,
    weight,
)

_APPAREL_COLOURS = {
    "Black": "001",
    "White": "100",
    "Navy": "410",
    "Grey Heather": "063",
    "Red": "600",
    "Royal Blue": "480",
    "Forest Green": "341",
    "Burgundy": "677",
    "Khaki": "247",
    "Pink": "690",
    "Sky Blue": "436",
    "Charcoal": "010",
}
_JEAN_WASHES = {
    "Stonewash": "0193",
    "Rinse": "0101",
    "Black": "0165",
    "Medium Stonewash": "0114",
    "Dark Stonewash": "0162",
    "Light Indigo": "0115",
    "Grey": "0306",
}


# fmt: off
def grocery_lines() -> list[ProductLine]:
    g, ean = GROCERY, "{ean}"
    return [
        line(g, "Ariel", "Original", "Washing Liquid Laundry Detergent", ean, count("Washes", 24, 40, 54, 70),
              price=7.5),
        line(g, "Ariel", "All-in-1 Pods", "Washing Capsules", ean, count("Washes", 16, 31, 43, 57), price=6),
        line(g, "Persil", "Bio", "Laundry Washing Liquid", ean, count("Washes", 24, 38, 53, 70), price=7),
        line(g, "Persil", "Non Bio", "Laundry Washing Capsules", ean, count("Washes", 15, 26, 38, 50), price=6.5),
        line(g, "Lenor", "Spring Awakening", "Fabric Conditioner", ean, count("Washes", 35, 48, 57, 70), price=4),
        line(g, "Fairy", "Original", "Washing Up Liquid", ean, volume(320, 433, 654, 780, 1015), price=1.3),
        line(g, "Fairy", "Platinum Plus", "All in One Dishwasher", ean, count("Tablets", 30, 50, 70, 90), price=9),
        line(g, "Finish", "Quantum Ultimate", "Dishwasher", ean, count("Tablets", 30, 48, 60, 80), price=8),
        line(g, "Domestos", "Original", "Thick Bleach", ean, volume(750, 1250, 2000), price=1.5),
        line(g, "Coca-Cola", "Zero Sugar", "330ml Cans", ean, count("Pack", 6, 8, 12, 24), price=3.5),
        line(g, "Coca-Cola", "Original Taste", "330ml Cans", ean, count("Pack", 6, 8, 12, 24), price=3.8),
        line(g, "Diet Coke", "", "330ml Cans", ean, count("Pack", 6, 8, 12, 24), price=3.6),
        line(g, "Pepsi", "Max No Sugar", "330ml Cans", ean, count("Pack", 6, 8, 12, 24), price=3.2),
        line(g, "Red Bull", "", "Energy Drink 250ml Cans", ean, count("Pack", 4, 12, 24), price=4.5),
        line(g, "Coca-Cola", "Zero Sugar", "Bottle", ean, volume(500, 1250, 1500, 2000), price=1.2),
        line(g, "Nescafé", "Gold Blend", "Instant Coffee", ean, weight(100, 200, 300), price=4.5),
        line(g, "Kenco", "Smooth", "Instant Coffee", ean, weight(100, 200, 300), price=4),
        line(g, "Lavazza", "Qualità Rossa", "Coffee Beans", ean, weight(500, 1000), price=8),
        line(g, "Lavazza", "Crema e Gusto", "Ground Coffee", ean, weight(250, 1000), price=3.5),
        line(g, "Yorkshire Tea", "", "", ean, count("Tea Bags", 40, 80, 160, 240), price=1.8),
        line(g, "PG Tips", "Original", "Pyramid", ean, count("Tea Bags", 40, 80, 160, 240), price=1.7),
        line(g, "Twinings", "English Breakfast", "", ean, count("Tea Bags", 40, 80, 100), price=2.2),
        line(g, "Barilla", "Spaghetti No.5", "Durum Wheat Pasta", ean, weight(500, 1000), price=1.1),
        line(g, "Heinz", "", "Baked Beans in Tomato Sauce 415g", ean, count("Pack", 1, 4, 6, 12), price=1.2),
        line(g, "Heinz", "", "Tomato Ketchup", ean, weight(460, 700, 910, 1200), price=2.2),
        line(g, "Nutella", "", "Hazelnut Chocolate Spread", ean, weight(200, 350, 400, 750, 1000), price=2.2),
        line(g, "Kellogg's", "Corn Flakes", "Breakfast Cereal", ean, weight(250, 450, 500, 720), price=1.6),
        line(g, "Pampers", "Baby-Dry", "", ean, nappy_sizes(3, 4, 5, 6), count("Nappies", 42, 84, 126), price=9),
        line(g, "Huggies", "Little Ones", "", ean, nappy_sizes(2, 3, 4, 5, 6), count("Nappies", 30, 60, 90), price=8),
        line(g, "Andrex", "Classic Clean", "Toilet Tissue", ean, count("Rolls", 4, 9, 16, 24, 32), price=2.5),
        line(g, "Cushelle", "Quilted", "Toilet Tissue", ean, count("Rolls", 9, 12, 24), price=4.5),
        line(g, "Colgate", "Total Original", "Toothpaste", ean, volume(75, 100, 125), price=2.5),
        line(g, "Dove", "Original", "Shower Gel", ean, volume(225, 450, 720), price=1.8),
        line(g, "Head & Shoulders", "Classic Clean", "Anti-Dandruff Shampoo", ean, volume(250, 400, 500), price=3.2),
        line(g, "Whiskas", "1+ Mixed Selection in Jelly", "Adult Cat Food Pouches 85g", ean,
              count("Pack", 12, 40, 80), price=4.5),
        line(g, "Pedigree", "Dentastix", "Daily Dental Chews Medium Dog", ean, count("Sticks", 28, 56, 105), price=5),
        line(g, "Tesco", "Finest", "Basmati Rice", ean, weight(500, 1000, 2000, 5000), price=1.4),
        line(g, "Sainsbury's", "", "British Semi Skimmed Milk", ean, volume(568, 1136, 2272), price=0.7),
    ]



def clothing_lines() -> list[ProductLine]:
    c = CLOTHING
    trainers = "Men's Trainers"
    shoes = [
        ("Nike", "Air Force 1 '07", trainers, "CW2288-{colour}", 109),
        ("Nike", "Air Max 90", trainers, "CN8490-{colour}", 129),
        ("Nike", "Dunk Low Retro", trainers, "DD1391-{colour}", 99),
        ("Nike", "Pegasus 40", "Men's Road Running Shoes", "DV3853-{colour}", 119),
        ("Nike", "Revolution 7", "Men's Running Shoes", "FB2207-{colour}", 54),
        ("Adidas", "Samba OG", "Trainers", "B75{colour}", 90),
        ("Adidas", "Gazelle", "Trainers", "BB5{colour}", 85),
        ("Adidas", "Stan Smith", "Trainers", "FX5{colour}", 85),
        ("Adidas", "Superstar", "Trainers", "EG4{colour}", 85),
        ("Adidas", "Ultraboost Light", "Running Shoes", "HQ6{colour}", 170),
        ("New Balance", "574", "Trainers", "ML574E{colour}", 85),
        ("New Balance", "550", "Trainers", "BB550{colour}", 110),
        ("New Balance", "9060", "Trainers", "U9060{colour}", 140),
        ("Converse", "Chuck Taylor All Star", "Hi Top Canvas Trainers", "M9{colour}C", 60),
        ("Converse", "Chuck Taylor All Star", "Low Top Canvas Trainers", "M7{colour}C", 55),
        ("Vans", "Old Skool", "Skate Shoes", "VN000D3H{colour}", 70),
        ("Vans", "Sk8-Hi", "Skate Shoes", "VN000D5I{colour}", 80),
        ("Puma", "Suede Classic XXI", "Trainers", "374915-{colour}", 65),
        ("ASICS", "Gel-Kayano 30", "Men's Running Shoes", "1011B548.{colour}", 160),
        ("ASICS", "Gel-Nimbus 26", "Men's Running Shoes", "1011B794.{colour}", 170),
    ]
    lines = [
        line(c, brand, family, noun, model, colourways(letters=brand in ("New Balance", "Vans")),
              shoe_sizes(), price=price)
        for brand, family, noun, model, price in shoes
    ]
    lines += [
        line(c, "Dr. Martens", "1460 Smooth Leather", "Lace Up Boots", "11822{colour}",
              colours({"Black": "006", "Cherry Red": "600", "White": "100", "Oxblood": "601"}),
              shoe_sizes(3, 13, half_sizes=False), price=169),
        line(c, "Timberland", "6-Inch Premium", "Waterproof Boots", "10{colour}",
              colours({"Wheat Nubuck": "061", "Black Nubuck": "073", "Dark Brown": "001"}),
              shoe_sizes(6, 13), price=199),
        line(c, "UGG", "Classic Mini II", "Women's Boots", "1016222-{colour}",
              colours({"Chestnut": "CHE", "Black": "BLK", "Grey": "GREY", "Sand": "SAN"}),
              shoe_sizes(3, 9, half_sizes=False), price=150),
    ]
    jeans = [
        ("Levi's", "501 Original Fit", "Men's Jeans", "00501-{colour}", 100),
        ("Levi's", "511 Slim Fit", "Men's Jeans", "04511-{colour}", 90),
        ("Levi's", "512 Slim Taper", "Men's Jeans", "28833-{colour}", 95),
        ("Wrangler", "Texas Regular Fit", "Men's Stretch Jeans", "W121{colour}", 65),
        ("Lee", "Daren Zip Fly Regular", "Men's Jeans", "L707{colour}", 70),
    ]
    lines += [
        line(c, brand, family, noun, model, colours(_JEAN_WASHES), waists(28, 29, 30, 31, 32, 33, 34, 36, 38, 40),
              legs(30, 32, 34), price=price)
        for brand, family, noun, model, price in jeans
    ]
    tops = [
        ("Ralph Lauren", "Custom Slim Fit Mesh", "Polo Shirt", "710536856{colour}", 109),
        ("Lacoste", "L.12.12 Classic Fit", "Polo Shirt", "L1212-00-{colour}", 95),
        ("Tommy Hilfiger", "1985 Slim Fit", "Polo Shirt", "MW0MW17771{colour}", 70),
        ("Nike", "Sportswear Club Fleece", "Pullover Hoodie", "BV2654-{colour}", 55),
        ("Nike", "Dri-FIT Park VII", "Football Shirt", "BV6708-{colour}", 25),
        ("Adidas", "Essentials 3-Stripes", "Track Pants", "GK8{colour}", 40),
        ("Adidas", "Adicolor Trefoil", "T-Shirt", "IA4{colour}", 28),
        ("The North Face", "1996 Retro Nuptse", "Men's Puffer Jacket", "NF0A3C8D{colour}", 300),
        ("Champion", "Reverse Weave", "Hooded Sweatshirt", "216568-{colour}", 80),
        ("Calvin Klein", "Cotton Stretch", "Boxer Briefs 3-Pack", "NB2616{colour}", 42),
        ("Under Armour", "Tech 2.0", "Short Sleeve T-Shirt", "1326413-{colour}", 25),
        ("Carhartt WIP", "Chase", "Hoodie", "I026384-{colour}", 95),
        ("Columbia", "Watertight II", "Men's Rain Jacket", "1533891-{colour}", 80),
        ("Uniqlo", "AIRism Cotton", "Oversized T-Shirt", "46{colour}", 15),
        ("Barbour", "Essential Lambswool", "Crew Neck Jumper", "MKN0345{colour}", 100),
    ]
    lines += [
        line(c, brand, family, noun, model, colours(_APPAREL_COLOURS), apparel_sizes(), price=price)
        for brand, family, noun, model, price in tops
    ]
    return lines

# fmt: on
