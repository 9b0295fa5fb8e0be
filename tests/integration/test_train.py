"""`dedup train` writes a model folder that `dedup eval` and the worker load as they are."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from decider.bundle import ModelBundle
from decider.known_products import KNOWN_PRODUCTS_FILE
from decider.models.gradient_boosting import GradientBoostingDecider
from encoders.text import TextEncoder
from stream.commands.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def labeled_set(make_labeled_set: Callable[[int, int], Path]) -> Path:
    return make_labeled_set(120, 5)


def last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    return orjson.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_train_then_eval_and_load(
    labeled_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], packaged_encoder: TextEncoder
) -> None:
    out = tmp_path / "model"
    code = main([
        "train", "--data", str(labeled_set), "--out", str(out), "--finetune", "--epochs", "1", "--max-minutes", "0.05",
        "--device", "cpu", "--seed", "3", "--known-products", "--json",
    ])
    assert code == 0
    report = last_json(capsys)
    assert report["finetune"]["steps"] >= 1 and report["valid"]["f1"] > 0
    assert (out / "text-encoder" / "config.json").is_file(), "the fine-tuned encoder travels inside the model folder"
    assert (out / KNOWN_PRODUCTS_FILE).is_file(), "the known products travel inside the model folder"
    assert report["decider"]["chosen"] in report["decider"]["valid_f1_out_of_fold"]

    model = ModelBundle.load(out, device="cpu")
    assert isinstance(model.decider, GradientBoostingDecider) and model.decider.known is not None
    assert model.encoder.version != packaged_encoder.version
    assert model.version == report["model_version"]

    code = main(["eval", "--data", str(labeled_set), "--split", "test", "--model", str(out), "--json", "--no-baselines"])
    assert code == 0
    evaluation = last_json(capsys)
    assert evaluation["f1"] > 0.5 and evaluation["threshold"] == pytest.approx(model.decider.threshold, abs=1e-5)


def test_train_without_known_products(labeled_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "model"
    assert main(["train", "--data", str(labeled_set), "--out", str(out), "--no-known-products", "--json"]) == 0
    last_json(capsys)
    model = ModelBundle.load(out, device="cpu")
    assert isinstance(model.decider, GradientBoostingDecider) and model.decider.known is None
    assert not (out / KNOWN_PRODUCTS_FILE).exists()
    assert not any(name.startswith("known_product") for name in model.decider.features)


def test_train_on_another_local_checkpoint(
    labeled_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--base-model trains on any local folder; eval and the worker then need DEDUP_ENCODER_TEXT_MODEL_PATH."""
    donor = tmp_path / "donor"
    assert main([
        "train", "--data", str(labeled_set), "--out", str(donor), "--finetune", "--epochs", "1", "--max-minutes", "0.02",
        "--device", "cpu", "--json",
    ]) == 0
    checkpoint = donor / "text-encoder"  # stands in for any local BERT-family folder
    out = tmp_path / "model"
    assert main(["train", "--data", str(labeled_set), "--out", str(out), "--base-model", str(checkpoint), "--json"]) == 0
    report = last_json(capsys)
    assert report["model_version"].startswith(TextEncoder(checkpoint, device="cpu").version)
    assert not (out / "text-encoder").exists(), "without --finetune the base model is not copied"

    eval_args = ["eval", "--data", str(labeled_set), "--split", "test", "--model", str(out), "--json", "--no-baselines"]
    monkeypatch.delenv("DEDUP_ENCODER_TEXT_MODEL_PATH", raising=False)
    assert main(eval_args) == 1
    assert "DEDUP_ENCODER_TEXT_MODEL_PATH" in capsys.readouterr().err
    monkeypatch.setenv("DEDUP_ENCODER_TEXT_MODEL_PATH", str(checkpoint))
    assert main(eval_args) == 0
    assert last_json(capsys)["model_version"] == report["model_version"]


def test_train_learns_from_the_listings_photos(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`dedup generate --images` then `dedup train --photos-root`: every photo is hashed for the decider."""
    data, photos = tmp_path / "data", tmp_path / "photos"
    assert main(["generate", "--out", str(data), "--products", "150", "--seed", "2", "--images", str(photos)]) == 0
    capsys.readouterr()
    out = tmp_path / "model"
    code = main([
        "train", "--data", str(data), "--out", str(out), "--photos-root", str(photos), "--no-known-products",
        "--no-cross-encoder", "--device", "cpu", "--json",
    ])
    assert code == 0
    report = last_json(capsys)
    listings = [orjson.loads(line) for line in (data / "listings.jsonl").read_bytes().splitlines()]
    with_photos = sum(1 for listing in listings if listing.get("image"))
    assert with_photos > 0 and report["photos"] == {"vectors": 0, "hashed": with_photos, "failed": {}}
