"""Generate a synthetic marketplace catalog with known duplicates and hard near-miss products.

Real benchmarks are small and their labels are noisy; a generator gives any amount of data with
exact truth and controllable difficulty. Products come from a catalogue of real-world product
lines (``product_lines``: drives, phones, TVs, headphones, laptops, kitchen appliances, packaged
groceries, clothing and shoes): each line has axes (capacity, size, colour, series) whose values
are written into the title and encoded into the model number the way manufacturers do it.

* A product's first listing is written plainly; its duplicates (other sellers) differ by unit
  formats, abbreviations, reordering, punctuation, casing, typos, seller boilerplate, a dropped
  or added model number (``titles``) and price jitter. ``SyntheticCatalog.perturbations`` says which.
* A near miss is the same line with one axis moved to another value (usually the neighbouring
  capacity or size, which also moves the model number: WD40EFZX vs WD60EFZX). It is a different
  product with its own cluster id, and its plain title differs from its sibling's only in that
  value and the model number.

Everything is drawn from one ``random.Random(seed)``, so a seed gives the same catalog on every
run and platform.

Usage: ``dedup generate --products 1000 --seed 0 --out data/synthetic``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from decider.synthetic.catalog import NearMiss, SyntheticCatalog, SyntheticProduct
from decider.synthetic.descriptions import describe
from decider.synthetic.product_lines import CATALOGUE_SIZE
from decider.synthetic.products import DrawnProduct, draw_products, make_product
from decider.synthetic.spellings import WORD_VARIANTS, model_forms, render
from decider.synthetic.titles import perturbed_title, plain_title
from decider.synthetic.vocabulary import ProductLine, VariantKind

CURRENCY = "GBP"
FIRST_LISTING_AT = datetime(2024, 3, 1, tzinfo=UTC)
MAX_SECONDS_BETWEEN_LISTINGS = 90
EXTRA_LISTINGS_WEIGHTS = {1: 0.6, 2: 0.3, 3: 0.1}  # duplicates per duplicated product
PRICE_JITTER = 0.10


@dataclass
class _Listing:
    product: int
    event: dict[str, Any]
    perturbations: tuple[str, ...]


def generate_catalog(
    n_products: int = 1000, *, duplicate_rate: float = 0.35, near_miss_rate: float = 0.25, seed: int = 0
) -> SyntheticCatalog:
    """A shuffled catalog of ``n_products`` distinct products and their duplicate listings.

    ``duplicate_rate``: share of products listed again by 1-3 other sellers.
    ``near_miss_rate``: share of products that are a near miss of an earlier product.
    """
    _check_arguments(n_products, duplicate_rate, near_miss_rate)
    rng = random.Random(seed)
    draws = draw_products(rng, n_products, near_miss_rate)
    products: list[DrawnProduct] = []
    for number, draw in enumerate(draws):
        products.append(make_product(rng, number, draw, products))
    sellers = [f"seller-{i:05d}" for i in range(max(25, n_products // 6))]
    listings = [
        listing
        for number, product in enumerate(products)
        for listing in _list_product(rng, number, product, duplicate_rate, sellers)
    ]
    rng.shuffle(listings)
    _stamp(rng, listings)
    return _assemble(seed, products, listings)


def _check_arguments(n_products: int, duplicate_rate: float, near_miss_rate: float) -> None:
    if not 0 <= n_products <= CATALOGUE_SIZE:
        raise ValueError(
            f"n_products must be within [0, {CATALOGUE_SIZE}], the distinct products the catalogue describes;"
            f" got {n_products}"
        )
    for name, rate in (("duplicate_rate", duplicate_rate), ("near_miss_rate", near_miss_rate)):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {rate}")


def _list_product(
    rng: random.Random, number: int, product: DrawnProduct, duplicate_rate: float, sellers: Sequence[str]
) -> list[_Listing]:
    extra = (
        rng.choices(list(EXTRA_LISTINGS_WEIGHTS), weights=list(EXTRA_LISTINGS_WEIGHTS.values()))[0]
        if rng.random() < duplicate_rate
        else 0
    )
    seller_ids = rng.sample(sellers, extra + 1)
    listings = [_Listing(number, _canonical_event(rng, product, seller_ids[0]), ())]
    for seller_id in seller_ids[1:]:
        event, perturbations = _duplicate_event(rng, product, seller_id)
        listings.append(_Listing(number, event, perturbations))
    return listings


def _canonical_event(rng: random.Random, product: DrawnProduct, seller_id: str) -> dict[str, Any]:
    return _event(
        title=plain_title(product),
        description=describe(rng, product) if rng.random() < 0.6 else None,
        brand=product.line.brand,
        category=product.line.category,
        price=product.price if rng.random() > 0.02 else None,
        seller_id=seller_id,
        model_number=product.model_number if rng.random() < 0.75 else None,
    )


def _duplicate_event(
    rng: random.Random, product: DrawnProduct, seller_id: str
) -> tuple[dict[str, Any], tuple[str, ...]]:
    title, perturbations = perturbed_title(rng, product)
    brand = product.line.brand
    brand_field = rng.choices([brand, WORD_VARIANTS.get(brand, (brand.upper(),))[0], None], weights=[0.7, 0.1, 0.2])[0]
    jitter = rng.uniform(1 - PRICE_JITTER, 1 + PRICE_JITTER)
    model_number = None
    if rng.random() < 0.5:
        forms = model_forms(product.model_number)
        model_number = rng.choice(forms) if forms and rng.random() < 0.2 else product.model_number
    event = _event(
        title=title,
        description=describe(rng, product) if rng.random() < 0.4 else None,
        brand=brand_field,
        category=product.line.category if rng.random() < 0.8 else None,
        price=round(product.price * jitter, 2) if rng.random() > 0.02 else None,
        seller_id=seller_id,
        model_number=model_number,
    )
    return event, perturbations


def _event(**fields: Any) -> dict[str, Any]:
    # listing_id and created_at are filled in once the catalog order is known.
    return {"listing_id": "", "title": fields.pop("title"), **fields, "currency": CURRENCY, "created_at": ""}


def _stamp(rng: random.Random, listings: Sequence[_Listing]) -> None:
    """Ids and creation times follow catalog order, so replaying the file replays the feed."""
    moment = FIRST_LISTING_AT
    for position, listing in enumerate(listings):
        moment += timedelta(seconds=rng.randint(1, MAX_SECONDS_BETWEEN_LISTINGS))
        listing.event["listing_id"] = f"syn-{position:06d}"
        listing.event["created_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _assemble(seed: int, products: Sequence[DrawnProduct], listings: Sequence[_Listing]) -> SyntheticCatalog:
    listing_ids: dict[int, list[str]] = defaultdict(list)
    canonical: dict[int, str] = {}
    for listing in listings:
        listing_ids[listing.product].append(listing.event["listing_id"])
        if not listing.perturbations:
            canonical[listing.product] = listing.event["listing_id"]
    catalog_products = {
        p.cluster_id: SyntheticProduct(
            cluster_id=p.cluster_id,
            category=p.line.category,
            brand=p.line.brand,
            line=f"{p.line.brand} {p.line.family}".strip(),
            line_index=p.draw.line,
            attributes={axis.name: render(axis, option) for axis, option in p.options()},
            model_number=p.model_number,
            canonical_listing_id=canonical[number],
            listing_ids=tuple(listing_ids[number]),
        )
        for number, p in enumerate(products)
    }
    near_misses = [
        NearMiss(
            p.cluster_id,
            products[p.draw.sibling].cluster_id,
            p.draw.varied_axis or "",
            _axis_kind(p.line, p.draw.varied_axis),
        )
        for p in products
        if p.draw.sibling is not None
    ]
    return SyntheticCatalog(
        seed=seed,
        listings=[listing.event for listing in listings],
        truth={listing.event["listing_id"]: products[listing.product].cluster_id for listing in listings},
        products=catalog_products,
        near_misses=near_misses,
        perturbations={listing.event["listing_id"]: listing.perturbations for listing in listings},
    )


def _axis_kind(line: ProductLine, name: str | None) -> VariantKind:
    return next(axis.kind for axis in line.axes if axis.name == name)
