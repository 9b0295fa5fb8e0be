"""Listings with photos through the real pipeline (tansu, redis-server, Milvus Lite): hashes, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from PIL import Image, ImageDraw

from decider.bundle import ModelBundle
from decider.pairs import CandidatePairs
from encoders.images.phash import photo_phash
from stream.events import SourcePosition, parse_listing
from stream.settings import Settings
from stream.worker.incoming import Incoming
from stream.worker.runtime import open_runtime

pytestmark = pytest.mark.integration


def packshot(path: Path, colour: str, label: str, *, quality: int = 92, size: int = 160) -> None:
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 20, 130, 140), fill=colour)
    draw.ellipse((50, 40, 110, 100), fill="white")
    draw.text((40, 110), label, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="JPEG", quality=quality)


def incoming(item: dict[str, Any], offset: int) -> Incoming:
    return Incoming(
        listing=parse_listing(orjson.dumps(item)),
        source=SourcePosition(topic="t", partition=0, offset=offset),
        timestamp_ms=1_700_000_000_000 + offset,
    )


def with_photos(base: Settings, root: Path, **milvus: int) -> Settings:
    return Settings(
        kafka=base.kafka.model_dump(),
        topics=base.topics.model_dump(),
        milvus={**base.milvus.model_dump(), **milvus},
        redis={"url": base.redis.url.get_secret_value()},
        model=base.model.model_dump(),
        worker=base.worker.model_dump(),
        photos={"root": root, "read_timeout_s": 1.0},
    )


CROWD = [
    {"listing_id": f"tv-{i}", "title": f"Samsung 55 inch 4K UHD Smart LED TV model year {2015 + i}"} for i in range(6)
]


def test_a_reused_photo_is_hashed_and_found_whatever_the_title(
    pipeline_settings: Settings, baseline_model: ModelBundle, tmp_path: Path
) -> None:
    packshot(tmp_path / "a.jpg", "navy", "KABEL C")
    (tmp_path / "copies").mkdir()
    (tmp_path / "copies" / "a-copy.jpg").write_bytes((tmp_path / "a.jpg").read_bytes())  # a reseller's copy
    with Image.open(tmp_path / "a.jpg") as photo:
        expected_hash = photo_phash(photo)
    target = {"listing_id": "photo", "title": "kabel data usb type c", "image": "a.jpg"}
    query = {"listing_id": "query", "title": "Samsung 55 inch 4K UHD Smart LED TV", "image": "copies/a-copy.jpg"}
    settings = with_photos(pipeline_settings, tmp_path, candidates=1, group_candidates=0)
    seen: list[CandidatePairs] = []
    with open_runtime(settings, baseline_model) as runtime:
        stored = runtime.pipeline.process([incoming(item, i) for i, item in enumerate([*CROWD, target])])
        runtime.pipeline.on_scored = lambda pairs, _scores: seen.append(pairs)
        report = runtime.pipeline.process([incoming(query, 100)])
    assert stored.photos_loaded == 1 and report.photos_loaded == 1 and not report.photo_failures
    pairs = seen[0]
    assert "photo" in pairs.candidate_ids, "the photo's hash is a BM25 token: reuse makes a lexical candidate"
    row = list(pairs.candidate_ids).index("photo")
    assert pairs.query_listings[row]["image_phash"] == expected_hash
    assert pairs.candidate_listings[row]["image_phash"] == expected_hash, "stored with the listing"
    assert pairs.candidate_ids[0] != "photo", "not the nearest title: it came from the photo"


def test_a_broken_photo_loses_nothing_and_is_named_in_the_event(
    pipeline_settings: Settings, baseline_model: ModelBundle, tmp_path: Path
) -> None:
    (tmp_path / "broken.jpg").write_bytes(b"this is not a jpeg")
    older = {"listing_id": "older", "title": "Canon EOS R50 Mirrorless Camera Body - Black"}
    broken = {"listing_id": "broken", "title": "Canon EOS R50 mirrorless camera body black", "image": "broken.jpg"}
    missing = {"listing_id": "missing", "title": "Logitech MX Master 3S mouse", "image": "nowhere/none.jpg"}
    outside = {"listing_id": "outside", "title": "Bose QuietComfort 45 headphones", "image": "../../etc/passwd"}
    settings = with_photos(pipeline_settings, tmp_path)
    with open_runtime(settings, baseline_model) as runtime:
        runtime.pipeline.process([incoming(older, 0)])
        report = runtime.pipeline.process([incoming(item, 1 + i) for i, item in enumerate([broken, missing, outside])])
        stored = runtime.store.count()
    assert stored == 4, "every listing is stored, photo or not"
    assert report.photo_failures == {"not_an_image": 1, "not_found": 1, "outside_root": 1}
    events = {event.listing_id: event for event in report.duplicates}
    assert [m.listing_id for m in events["broken"].matches] == ["older"], "matched on text alone"
    assert events["broken"].photo_error is not None and events["broken"].photo_error.startswith("not_an_image: ")
    assert events["broken"].matches[0].image_similarity is None


@pytest.fixture(scope="module")
def model_with_images(baseline_model: ModelBundle, tmp_path_factory: pytest.TempPathFactory) -> ModelBundle:
    """The baseline model plus a small random ViT whose 128-d reducer is fitted on random photos."""
    import json

    import torch
    from safetensors.torch import save_file

    from encoders.images.encoder import CONFIG_FILE, REDUCER_FOLDER, WEIGHTS_FILE, ImageEncoder, build_vit
    from encoders.reducer import PcaReducer

    architecture = {"img_size": 32, "patch_size": 8, "embed_dim": 192, "depth": 1, "num_heads": 3}
    folder = tmp_path_factory.mktemp("image-encoder")
    torch.manual_seed(0)
    save_file({k: v.contiguous() for k, v in build_vit(architecture).state_dict().items()}, str(folder / WEIGHTS_FILE))
    config = {"kind": "image-encoder", "format_version": 1, "name": "tiny-vit", "architecture": architecture,
              "image": {"size": 32, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}}
    (folder / CONFIG_FILE).write_text(json.dumps(config))
    rng = np.random.default_rng(0)
    samples = [Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)) for _ in range(160)]
    encoder = ImageEncoder.load(folder, device="cpu")
    PcaReducer.fit(encoder.encode(samples), dim=128, source=encoder.version).save(folder / REDUCER_FOLDER)
    model = ModelBundle(
        encoder=baseline_model.encoder,
        reducer=baseline_model.reducer,
        decider=baseline_model.decider,
        images=ImageEncoder.load(folder, device="cpu"),
    )
    model.save(tmp_path_factory.mktemp("model-with-images"))
    return ModelBundle.load(model.directory, device="cpu")


def test_photo_vectors_are_stored_searched_and_compared(
    pipeline_settings: Settings, model_with_images: ModelBundle, tmp_path: Path
) -> None:
    packshot(tmp_path / "mug.jpg", "crimson", "MUG 350")
    packshot(tmp_path / "mug-reseller.jpg", "crimson", "MUG 350", quality=40, size=220)  # re-shot, re-encoded
    target = {"listing_id": "mug", "title": "gelas keramik merah", "image": "mug.jpg"}
    query = {"listing_id": "query", "title": "Samsung 55 inch 4K UHD Smart LED TV", "image": "mug-reseller.jpg"}
    settings = with_photos(pipeline_settings, tmp_path, candidates=1, lexical_candidates=0, group_candidates=0)
    seen: list[CandidatePairs] = []
    with open_runtime(settings, model_with_images) as runtime:
        assert runtime.pipeline.photo_candidates == settings.photos.candidates > 0
        runtime.pipeline.process([incoming(item, i) for i, item in enumerate([*CROWD, target])])
        runtime.pipeline.on_scored = lambda pairs, _scores: seen.append(pairs)
        runtime.pipeline.process([incoming(query, 100)])
        runtime.pipeline.photo_candidates = 0
        runtime.pipeline.process([incoming(query, 100)])
        stored = runtime.store.fetch_vectors(["mug", "tv-0"])
    with_photo_channel, without = seen
    assert "mug" in with_photo_channel.candidate_ids and "mug" not in without.candidate_ids
    row = list(with_photo_channel.candidate_ids).index("mug")
    assert with_photo_channel.image_similarity[row] > 0.5, "the same packshot, re-encoded, is near"
    crowd_rows = [i for i, c in enumerate(with_photo_channel.candidate_ids) if c.startswith("tv-")]
    assert all(np.isnan(with_photo_channel.image_similarity[i]) for i in crowd_rows), "no photo: NaN"
    assert stored["mug"][1] is not None and stored["tv-0"][1] is None
    assert model_with_images.embedding_version.endswith(model_with_images.images.reducer.version)


def test_a_model_folder_carries_its_image_encoder_and_refuses_another(
    model_with_images: ModelBundle, tmp_path: Path
) -> None:
    import shutil

    from decider.bundle import IMAGE_ENCODER_FOLDER
    from decider.errors import ModelError
    from encoders.errors import ReducerError

    copy = tmp_path / "model"
    shutil.copytree(model_with_images.directory, copy)
    loaded = ModelBundle.load(copy, device="cpu")
    assert loaded.images is not None and loaded.images.version == model_with_images.images.version
    assert loaded.embedding_version == model_with_images.embedding_version
    weights = copy / IMAGE_ENCODER_FOLDER / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + bytes(8))  # other weights, same shapes
    with pytest.raises((ModelError, ReducerError), match="trained with|fitted on"):  # whichever check runs first
        ModelBundle.load(copy, device="cpu")
    shutil.rmtree(copy / IMAGE_ENCODER_FOLDER)
    with pytest.raises(ModelError, match="is missing"):
        ModelBundle.load(copy, device="cpu")
