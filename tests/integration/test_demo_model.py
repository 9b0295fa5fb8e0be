"""The demo keeps the model it fits; a cached one that no longer loads is fitted again, not an error."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from decider.synthetic import generate_catalog
from stream.demo import demo_model, demo_model_dir, load_demo_data
from stream.settings import Settings

pytestmark = pytest.mark.integration


def test_a_stale_cached_demo_model_is_refitted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = tmp_path / "generated"
    generate_catalog(n_products=200, seed=9).write(root)
    args = argparse.Namespace(data=root, model=None, state_dir=tmp_path / "state", seed=1, products=200)
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
