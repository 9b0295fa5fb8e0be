"""``dedup generate``: write a synthetic catalog with known duplicates in the shared data layout."""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FAILED = 0, 1


def cmd_generate(args: argparse.Namespace) -> int:
    from decider.synthetic.generator import generate_catalog

    try:
        catalog = generate_catalog(
            args.products, duplicate_rate=args.duplicate_rate, near_miss_rate=args.near_miss_rate, seed=args.seed
        )
        catalog.write(
            args.out,
            n_negatives_per_positive=args.negatives_per_positive,
            valid_fraction=args.valid_fraction,
            overwrite=args.overwrite,
        )
    except FileExistsError:
        print(f"dedup: error: {args.out} already holds a dataset; pass --overwrite to replace it", file=sys.stderr)
        return EXIT_FAILED
    except (ValueError, OSError) as exc:  # DatasetError is a ValueError
        print(f"dedup: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    duplicated = sum(len(p.listing_ids) > 1 for p in catalog.products.values())
    print(
        f"wrote {len(catalog.listings)} listings of {len(catalog.products)} products "
        f"({duplicated} listed more than once, {len(catalog.near_misses)} near misses) to {args.out}"
    )
    return EXIT_OK
