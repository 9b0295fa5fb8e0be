"""Product photos for a generated catalog: one packshot per product, reused by its duplicates as resellers do.

* A product's plainly written (canonical) listing carries its packshot (``look_of`` + ``draw_packshot``).
* A duplicate listing has no photo at ``NO_PHOTO_RATE``; at ``RERENDER_RATE`` a fresh photo of the same
  product from another angle (so exact reuse is not the only signal); otherwise the original re-posted
  (``reseller_copy``: rescaled, cropped or padded, brightened, watermarked with the seller, re-encoded).
* A near miss is another product, so it has its own packshot: its line's shape and background, another
  label text or colour, other marks. It looks alike but is not the same.

Every draw comes from the catalog's seed and the product or listing, never from the generator's random
stream, so a catalog's listings and truth are the same with or without photos.

Usage: ``write_packshots(catalog, folder)`` writes the files and sets every listing's ``image`` (a path
relative to ``folder``, or None).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image

from decider.synthetic.catalog import SyntheticCatalog, SyntheticProduct
from decider.synthetic.packshot_drawing import Pose, draw_packshot
from decider.synthetic.packshot_looks import look_of
from decider.synthetic.reseller_photos import (
    ORIGINAL_ENCODING,
    Encoding,
    encoded,
    reseller_copy,
    reseller_encoding,
    watermarked,
)
from infra.files import write_bytes_atomically

PhotoKind = Literal["original", "copy", "rerender"]
NO_PHOTO_RATE = 0.25
RERENDER_RATE = 0.05
DEFAULT_SIZE = 160
PHOTO_SUFFIXES = (".jpg", ".png")
_LISTING_PREFIX = "syn-"  # generated listing ids; only such photos are ever replaced in a folder


@dataclass(frozen=True)
class PlannedPhoto:
    listing_id: str
    cluster_id: str
    kind: PhotoKind
    encoding: Encoding

    @property
    def file(self) -> str:
        """The photo's path relative to the images folder."""
        return f"{self.listing_id}{self.encoding.suffix}"


def write_packshots(
    catalog: SyntheticCatalog, folder: Path | str, *, size: int = DEFAULT_SIZE, overwrite: bool = False
) -> dict[str, str | None]:
    """Render every listing's photo into ``folder`` and set each listing's ``image``; listing id -> that path.

    Refuses a folder already holding generated photos unless ``overwrite``; other files there are left alone.
    """
    plan = plan_photos(catalog)
    write_photos(catalog, plan, folder, size=size, overwrite=overwrite)
    return set_image_paths(catalog, plan)


def plan_photos(catalog: SyntheticCatalog) -> dict[str, PlannedPhoto | None]:
    """Which photo each listing gets (None: no photo), in catalog order; cheap, renders nothing."""
    plan: dict[str, PlannedPhoto | None] = {}
    for product in catalog.products.values():
        for listing_id in product.listing_ids:
            plan[listing_id] = _planned(catalog.seed, product, listing_id)
    return {listing["listing_id"]: plan[listing["listing_id"]] for listing in catalog.listings}


def set_image_paths(catalog: SyntheticCatalog, plan: Mapping[str, PlannedPhoto | None]) -> dict[str, str | None]:
    """Each listing's ``image``: its photo's relative path, or None; listing id -> that value."""
    paths = {listing_id: planned.file if planned else None for listing_id, planned in plan.items()}
    for listing in catalog.listings:
        listing["image"] = paths[listing["listing_id"]]
    return paths


def write_photos(
    catalog: SyntheticCatalog,
    plan: Mapping[str, PlannedPhoto | None],
    folder: Path | str,
    *,
    size: int = DEFAULT_SIZE,
    overwrite: bool = False,
) -> None:
    """The planned photos as files in ``folder``; each product is drawn once, for all its listings."""
    folder = Path(folder)
    _prepare_folder(folder, overwrite=overwrite)
    sellers = {listing["listing_id"]: listing.get("seller_id") or "" for listing in catalog.listings}
    for product in catalog.products.values():
        planned = [plan[listing_id] for listing_id in product.listing_ids]
        photos = [photo for photo in planned if photo is not None]
        if not photos:
            continue
        original = draw_packshot(look_of(product, catalog.seed), size, studio_pose(catalog.seed, product))
        for photo in photos:
            content = photo_bytes(catalog, product, photo, original, sellers[photo.listing_id])
            write_bytes_atomically(folder / photo.file, content)


def holds_photos(folder: Path | str) -> bool:
    """Whether ``folder`` already holds generated listing photos (what ``write_photos`` would replace)."""
    return bool(_generated_photos(Path(folder)))


def photo_bytes(
    catalog: SyntheticCatalog, product: SyntheticProduct, photo: PlannedPhoto, original: Image.Image, seller: str
) -> bytes:
    """One listing's file: the original as drawn, a reseller's copy of it, or a fresh shot from another angle."""
    rng = random.Random(f"photo-edit:{catalog.seed}:{photo.listing_id}")
    if photo.kind == "original":
        return encoded(original, photo.encoding)
    if photo.kind == "copy":
        return encoded(reseller_copy(original, seller, rng), photo.encoding)
    studio = studio_pose(catalog.seed, product)
    pose = Pose(  # the same studio, the camera moved a little
        angle=rng.choice((-1, 1)) * rng.uniform(2, 5),
        shift=(studio.shift[0] + rng.uniform(-0.03, 0.03), studio.shift[1] + rng.uniform(-0.03, 0.03)),
        zoom=studio.zoom * rng.uniform(0.94, 1.04),
    )
    image = draw_packshot(look_of(product, catalog.seed), original.width, pose)
    if rng.random() < 0.5:
        image = watermarked(image, seller, rng)
    return encoded(image, photo.encoding)


def studio_pose(seed: int, product: SyntheticProduct) -> Pose:
    """How the product's own photo was framed: products shot apart (near misses too) are framed apart."""
    rng = random.Random(f"photo-studio:{seed}:{product.cluster_id}")
    return Pose(shift=(rng.uniform(-0.04, 0.04), rng.uniform(-0.04, 0.04)), zoom=rng.uniform(0.92, 1.06))


def _planned(seed: int, product: SyntheticProduct, listing_id: str) -> PlannedPhoto | None:
    if listing_id == product.canonical_listing_id:
        return PlannedPhoto(listing_id, product.cluster_id, "original", ORIGINAL_ENCODING)
    rng = random.Random(f"photo-kind:{seed}:{listing_id}")
    draw = rng.random()
    if draw < NO_PHOTO_RATE:
        return None
    if draw < NO_PHOTO_RATE + RERENDER_RATE:
        return PlannedPhoto(listing_id, product.cluster_id, "rerender", Encoding("JPEG", rng.randint(70, 90)))
    return PlannedPhoto(listing_id, product.cluster_id, "copy", reseller_encoding(rng))


def _prepare_folder(folder: Path, *, overwrite: bool) -> None:
    stale = _generated_photos(folder)
    if stale and not overwrite:
        raise FileExistsError(f"{folder} already holds generated photos; pass overwrite=True to replace them")
    for path in stale:
        path.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def _generated_photos(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [
        path
        for path in folder.iterdir()
        if path.is_file() and path.name.startswith(_LISTING_PREFIX) and path.suffix in PHOTO_SUFFIXES
    ]
