"""decider.synthetic.packshots: a catalog's photos, deterministic, reused by duplicates, apart for near misses."""

from __future__ import annotations

import hashlib
import statistics
from pathlib import Path

import imagehash
import orjson
import pytest
from PIL import Image

from decider.synthetic.catalog import SyntheticCatalog
from decider.synthetic.generator import generate_catalog
from decider.synthetic.packshot_drawing import SHAPES, Pose, draw_packshot
from decider.synthetic.packshot_looks import colours_named, look_of, shape_of
from decider.synthetic.packshots import (
    DEFAULT_SIZE,
    NO_PHOTO_RATE,
    holds_photos,
    plan_photos,
    write_packshots,
)
from decider.synthetic.product_lines import CATALOGUE

N_PRODUCTS, SEED = 150, 3


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticCatalog, Path, dict[str, str | None]]:
    catalog = generate_catalog(N_PRODUCTS, seed=SEED)
    folder = tmp_path_factory.mktemp("photos")
    return catalog, folder, write_packshots(catalog, folder)


def file_digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def phash(folder: Path, relative: str | None) -> imagehash.ImageHash:
    assert relative is not None
    with Image.open(folder / relative) as image:
        return imagehash.phash(image)


def test_the_same_seed_writes_the_same_bytes(written, tmp_path: Path) -> None:
    catalog, folder, _ = written
    again = generate_catalog(N_PRODUCTS, seed=SEED)
    write_packshots(again, tmp_path)

    assert file_digests(tmp_path) == file_digests(folder)
    assert again.listings == catalog.listings


def test_another_seed_draws_other_photos(written, tmp_path: Path) -> None:
    catalog, folder, _ = written
    product = next(iter(catalog.products.values()))

    assert draw_packshot(look_of(product, SEED)).tobytes() == draw_packshot(look_of(product, SEED)).tobytes()
    assert draw_packshot(look_of(product, SEED + 1)).tobytes() != draw_packshot(look_of(product, SEED)).tobytes()


def test_photos_leave_the_catalog_otherwise_unchanged(written) -> None:
    catalog, _, paths = written
    plain = generate_catalog(N_PRODUCTS, seed=SEED)
    without_images = [{k: v for k, v in listing.items() if k != "image"} for listing in catalog.listings]

    assert orjson.dumps(without_images) == orjson.dumps(plain.listings)
    assert catalog.truth == plain.truth
    assert all("image" not in listing for listing in plain.listings)
    assert [listing["image"] for listing in catalog.listings] == [paths[x["listing_id"]] for x in catalog.listings]


def test_every_written_file_is_an_image_pil_opens(written) -> None:
    catalog, folder, paths = written
    files = {relative for relative in paths.values() if relative is not None}

    assert {path.name for path in folder.iterdir()} == files
    for relative in files:
        with Image.open(folder / relative) as image:
            image.load()
            assert image.format == ("PNG" if relative.endswith(".png") else "JPEG")
            assert image.mode == "RGB" and min(image.size) >= DEFAULT_SIZE * 0.7


def test_each_product_shows_on_its_plain_listing_and_some_duplicates_have_none(written) -> None:
    catalog, folder, paths = written
    duplicates = [x for p in catalog.products.values() for x in p.listing_ids if x != p.canonical_listing_id]
    originals = [paths[p.canonical_listing_id] for p in catalog.products.values()]

    assert all(relative is not None for relative in originals)
    with Image.open(folder / originals[0]) as image:
        assert image.size == (DEFAULT_SIZE, DEFAULT_SIZE)
    missing = sum(paths[x] is None for x in duplicates) / len(duplicates)
    assert NO_PHOTO_RATE - 0.12 < missing < NO_PHOTO_RATE + 0.12


def test_plan_mixes_copies_and_fresh_shots_on_a_larger_catalog() -> None:
    plan = plan_photos(generate_catalog(1000, seed=0))
    kinds = [photo.kind if photo else None for photo in plan.values()]

    assert plan == plan_photos(generate_catalog(1000, seed=0))
    assert kinds.count("copy") > 10 * kinds.count("rerender") > 0
    assert any(photo.file.endswith(".png") for photo in plan.values() if photo)


def test_a_duplicates_photo_is_closer_to_its_product_than_a_near_miss_is(written) -> None:
    catalog, folder, paths = written
    plan = plan_photos(catalog)
    copies = [
        phash(folder, paths[p.canonical_listing_id]) - phash(folder, paths[x])
        for p in catalog.products.values()
        for x in p.listing_ids
        if (photo := plan[x]) is not None and photo.kind == "copy"
    ]
    near = [
        phash(folder, paths[catalog.products[n.cluster_id].canonical_listing_id])
        - phash(folder, paths[catalog.products[n.sibling_cluster_id].canonical_listing_id])
        for n in catalog.near_misses
    ]
    originals = [phash(folder, paths[p.canonical_listing_id]) for p in catalog.products.values()]
    unrelated = [a - b for a, b in zip(originals, originals[1:], strict=False)]

    assert len(copies) > 20 and len(near) > 15
    assert statistics.median(copies) <= 8
    assert statistics.mean(copies) + 5 < statistics.mean(near) < statistics.mean(unrelated)


def test_a_near_miss_differs_from_its_sibling_in_colour_or_label(written) -> None:
    catalog, _, _ = written
    for near in catalog.near_misses:
        look = look_of(catalog.products[near.cluster_id], SEED)
        sibling = look_of(catalog.products[near.sibling_cluster_id], SEED)

        assert look.shape == sibling.shape
        assert (look.body, look.accent, look.label) != (sibling.body, sibling.accent, sibling.label)
        assert look.marks != sibling.marks


def test_a_folder_of_photos_is_replaced_only_when_asked(tmp_path: Path) -> None:
    catalog = generate_catalog(12, seed=1)
    keep = tmp_path / "notes.jpg"
    keep.write_bytes(b"not ours")
    write_packshots(catalog, tmp_path)
    stale = tmp_path / "syn-999999.jpg"
    stale.write_bytes(b"old")

    assert holds_photos(tmp_path)
    with pytest.raises(FileExistsError, match="already holds generated photos"):
        write_packshots(catalog, tmp_path)
    write_packshots(catalog, tmp_path, overwrite=True)
    assert not stale.exists() and keep.read_bytes() == b"not ours"


def test_sizes_poses_and_bad_sizes() -> None:
    catalog = generate_catalog(5, seed=1)
    look = look_of(next(iter(catalog.products.values())), 1)

    assert draw_packshot(look, 96).size == (96, 96)
    posed = draw_packshot(look, 96, Pose(angle=4, shift=(0.02, 0), zoom=0.9))
    assert posed.tobytes() != draw_packshot(look, 96).tobytes()
    with pytest.raises(ValueError, match="at least 16 pixels"):
        draw_packshot(look, 8)


def test_every_catalogue_line_has_a_drawn_shape() -> None:
    shapes = {shape_of(line.category, f"{line.noun} {line.family}") for line in CATALOGUE}

    assert shapes <= SHAPES.keys()
    assert len(shapes) >= 12


def test_colour_names_give_their_colours() -> None:
    black, _ = colours_named("Black")
    white, _ = colours_named("White")
    two_tone = colours_named("Beige/Black")

    assert sum(black) < 150 < 600 < sum(white)
    assert sum(two_tone[0]) > 450 and sum(two_tone[1]) < 150
    assert sum(colours_named("Midnight Blue")[0]) < sum(colours_named("Sky Blue")[0])
    assert colours_named("Navy")[0] != colours_named("Navy Blue")[0]
    assert colours_named("Zorblax Shimmer") == colours_named("Zorblax Shimmer")
