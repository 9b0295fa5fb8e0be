"""``dedup generate``: write a synthetic catalog with known duplicates in the shared data layout."""

from __future__ import annotations

import sys

from decider.synthetic.generator import generate_catalog
from decider.synthetic.packshots import holds_photos, plan_photos, set_image_paths, write_photos
from stream.commands.exit_codes import EXIT_FAILED, EXIT_OK
from stream.commands.options import GenerateOptions


def cmd_generate(options: GenerateOptions) -> int:
    images = options.images
    if images is not None and not options.overwrite and holds_photos(images):
        print(f"dedup: error: {images} already holds photos; pass --overwrite to replace them", file=sys.stderr)
        return EXIT_FAILED
    try:
        catalog = generate_catalog(
            options.products,
            duplicate_rate=options.duplicate_rate,
            near_miss_rate=options.near_miss_rate,
            seed=options.seed,
        )
        plan = plan_photos(catalog) if images is not None else None
        if plan is not None:
            set_image_paths(catalog, plan)
        catalog.write(
            options.out,
            n_negatives_per_positive=options.negatives_per_positive,
            valid_fraction=options.valid_fraction,
            overwrite=options.overwrite,
        )
        if images is not None and plan is not None:  # after the dataset, which may refuse to be replaced
            write_photos(catalog, plan, images, overwrite=options.overwrite)
    except FileExistsError:
        print(f"dedup: error: {options.out} already holds a dataset; pass --overwrite to replace it", file=sys.stderr)
        return EXIT_FAILED
    except (ValueError, OSError) as exc:  # DatasetError is a ValueError
        print(f"dedup: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    duplicated = sum(len(p.listing_ids) > 1 for p in catalog.products.values())
    photos = "" if plan is None else f"; {sum(p is not None for p in plan.values())} photos to {images}"
    print(
        f"wrote {len(catalog.listings)} listings of {len(catalog.products)} products "
        f"({duplicated} listed more than once, {len(catalog.near_misses)} near misses) to {options.out}{photos}"
    )
    return EXIT_OK
