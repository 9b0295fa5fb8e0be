"""``dedup generate --images``: photos beside the catalog, each listing's image relative to the folder."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from decider.datasets.labeled import load_dataset
from stream.commands.exit_codes import EXIT_FAILED, EXIT_OK
from stream.commands.generate import cmd_generate
from stream.commands.options import GenerateOptions


def options(tmp_path: Path, **given: object) -> GenerateOptions:
    values: dict[str, object] = {"out": tmp_path / "syn", "products": 25, "seed": 2, "images": tmp_path / "photos"}
    return GenerateOptions(**{**values, **given})  # type: ignore[arg-type]


def test_generate_writes_the_photos_its_listings_name(tmp_path: Path, capsys) -> None:
    assert cmd_generate(options(tmp_path)) == EXIT_OK

    listings = load_dataset(tmp_path / "syn").listings.values()
    named = [listing["image"] for listing in listings if listing["image"] is not None]
    assert "photos to" in capsys.readouterr().out
    assert len(named) >= 25 and all("image" in listing for listing in listings)
    assert sorted(path.name for path in (tmp_path / "photos").iterdir()) == sorted(named)
    with Image.open(tmp_path / "photos" / named[0]) as image:
        assert image.size[0] > 0


def test_generate_refuses_to_replace_photos_unless_told(tmp_path: Path, capsys) -> None:
    assert cmd_generate(options(tmp_path)) == EXIT_OK
    capsys.readouterr()

    assert cmd_generate(options(tmp_path, out=tmp_path / "other")) == EXIT_FAILED
    assert "already holds photos; pass --overwrite" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
    assert cmd_generate(options(tmp_path, seed=5, overwrite=True)) == EXIT_OK


def test_generate_without_images_writes_no_image_field(tmp_path: Path) -> None:
    assert cmd_generate(GenerateOptions(out=tmp_path / "syn", products=10)) == EXIT_OK

    assert all("image" not in listing for listing in load_dataset(tmp_path / "syn").listings.values())
