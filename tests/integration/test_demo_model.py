"""The demo keeps the model it fits; a cached one that no longer loads is fitted again, not an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from decider.models.gradient_boosting import GradientBoostingDecider
from decider.synthetic.coverage import field_coverage
from decider.synthetic.generator import generate_catalog
from stream.commands.demo import DEMO_INPUTS, demo_model, demo_model_dir, load_demo_data
from stream.commands.options import DemoOptions
from stream.settings import Settings

pytestmark = pytest.mark.integration


def test_a_stale_cached_demo_model_is_refitted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "generated"
    generate_catalog(n_products=200, seed=9).write(root)
    args = DemoOptions(data=root, state_dir=tmp_path / "state", seed=1, products=200)
    settings = Settings(encoder={"device": "cpu"})
    data = load_demo_data(args)
    first = demo_model(args, settings, data)
    folder = demo_model_dir(args, data)
    assert demo_model(args, settings, data).version == first.version, "a good cached model is reused"

    manifest = folder / "model.json"  # as if written by a release with another encoder
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "text_encoder": {"name": "x", "version": "x@0"}}))
    refitted = demo_model(args, settings, data)
    assert "refitting the demo model" in caplog.text
    assert json.loads(manifest.read_text())["text_encoder"]["version"] == refitted.encoder.version


def test_a_set_without_train_or_valid_pairs_gets_a_tree_decider(tmp_path: Path) -> None:
    """A bare catalog with duplicates (like abt-buy-catalog): trees trained on a generated catalog, not a
    similarity threshold, since none of the set's labels may be used to fit it."""
    root = tmp_path / "catalog"
    generate_catalog(n_products=60, seed=4).write(root)
    for split in ("train", "valid"):
        (root / "pairs" / f"{split}.csv").unlink()
    listings_file = root / "listings.jsonl"  # a catalog without brands or model numbers, as many are
    lines = listings_file.read_text().splitlines()
    bare = [{**json.loads(line), "brand": None, "model_number": None} for line in lines]
    listings_file.write_text("".join(json.dumps(listing) + "\n" for listing in bare))
    args = DemoOptions(data=root, state_dir=tmp_path / "state", seed=2, products=60)
    data = load_demo_data(args)
    model = demo_model(args, Settings(encoder={"device": "cpu"}), data)
    assert isinstance(model.decider, GradientBoostingDecider)
    generated = data.calibration_catalog.listings
    assert not any(listing["brand"] or listing["model_number"] for listing in generated), "trained as they come"
    assert all(listing["title"] for listing in generated)
    assert field_coverage(generated)["price"] > 0.8, "fields the catalog has stay about as common"
    assert "fields as often missing as in" in data.calibration_source


def test_the_generated_catalog_comes_with_photos_the_demo_model_learns_from(tmp_path: Path) -> None:
    settings = Settings(encoder={"device": "cpu"})
    args = DemoOptions(state_dir=tmp_path / "state", seed=3, products=40)
    data = load_demo_data(args)
    assert data.photos_root is not None
    shown = [listing for listing in data.listings if listing.get("image")]
    assert len(shown) > len(data.listings) / 2
    assert all((data.photos_root / listing["image"]).is_file() for listing in shown)
    demo_model(args, settings, data)
    calibration = data.calibration_catalog.listings
    hashed = [listing for listing in calibration if listing.get("image_phash")]
    assert len(hashed) == sum(1 for listing in calibration if listing.get("image")), "every photo hashed"
    assert json.loads((demo_model_dir(args, data) / DEMO_INPUTS).read_text())["photos"] is True

    text_only = DemoOptions(state_dir=tmp_path / "state", seed=3, products=40, photos=False)
    plain = load_demo_data(text_only)
    assert plain.photos_root is None and not any(listing.get("image") for listing in plain.listings)
    demo_model(text_only, settings, plain)  # another input: fitted again, not the photo model reused
    assert json.loads((demo_model_dir(text_only, plain) / DEMO_INPUTS).read_text())["photos"] is False
