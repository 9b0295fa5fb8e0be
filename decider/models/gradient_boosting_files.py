"""A saved gradient-boosting decider: its files, its version string, and the checks made before loading it.

Saved as ``decider.json`` (the manifest: versions, features, threshold, calibration, the model
file's SHA-256) and ``decider-model.pkl`` (the fitted scikit-learn objects). Loading checks the
manifest before unpickling anything and refuses, with one line, a model from another scikit-learn
minor release, another feature version, or a model file whose hash does not match. The hash catches
corruption and mix-ups, not an attacker who can rewrite both files: a model folder is a trusted
artefact, like the code.
"""

from __future__ import annotations

import hashlib
import json
import math
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sklearn

from decider.errors import DeciderError
from decider.features.pair import FEATURE_VERSION, feature_names
from decider.known_products import KnownProducts
from infra.files import write_bytes_atomically

if TYPE_CHECKING:
    from decider.models.gradient_boosting import GradientBoostingDecider

KIND = "gradient-boosting"
FORMAT_VERSION = 1
MANIFEST_FILE = "decider.json"
MODEL_FILE = "decider-model.pkl"

_REQUIRED_MANIFEST_KEYS = ("version", "features", "threshold", "explanation_baseline", "model_sha256", "calibration")
_METADATA_KEYS = ("calibration", "target_precision", "params", "seed", "iterations", "fitted_on", "valid_at_threshold")


def model_file_bytes(classifier: Any, calibrated: Any) -> bytes:
    """What ``decider-model.pkl`` holds: the fitted trees and their calibration, pickled."""
    return pickle.dumps((classifier, calibrated), protocol=pickle.HIGHEST_PROTOCOL)


def decider_version(
    model_bytes: bytes,
    features: Sequence[str],
    threshold: float,
    explanation_baseline: Sequence[float],
    metadata: Mapping[str, Any],
    known: KnownProducts | None,
) -> str:
    """FEATURE_VERSION plus a hash of everything that decides a score or a reason."""
    digest = hashlib.sha256(model_bytes)
    decisive = {
        "features": list(features),
        "threshold": round(threshold, 9),
        "calibration": metadata["calibration"]["method"],
        "explanation_baseline": [_json_float(value) for value in explanation_baseline],
        "known_products": known.version if known is not None else None,
    }
    digest.update(json.dumps(decisive, sort_keys=True).encode())
    return f"gbdt-f{FEATURE_VERSION}-{digest.hexdigest()[:12]}"


# --- writing --------------------------------------------------------------------------------------


def write_decider_files(directory: Path, decider: GradientBoostingDecider) -> None:
    """Write the model file, then the manifest (last, so a complete manifest means a complete save)."""
    directory.mkdir(parents=True, exist_ok=True)
    manifest = (json.dumps(_manifest(decider), indent=2) + "\n").encode()
    write_bytes_atomically(directory / MODEL_FILE, decider.model_bytes)
    if decider.known is not None:
        decider.known.save(directory)
    write_bytes_atomically(directory / MANIFEST_FILE, manifest)


def _manifest(decider: GradientBoostingDecider) -> dict[str, Any]:
    return {
        "kind": KIND,
        "format": FORMAT_VERSION,
        "name": decider.name,
        "version": decider.version,
        "feature_version": FEATURE_VERSION,
        "sklearn_version": sklearn.__version__,
        "features": list(decider.features),
        "threshold": decider.threshold,
        "explanation_baseline": [_json_float(value) for value in decider.model.explanation_baseline],
        "model_file": MODEL_FILE,
        "model_sha256": hashlib.sha256(decider.model_bytes).hexdigest(),
        "known_products": _known_summary(decider.known),
        **decider.metadata,
    }


def _known_summary(known: KnownProducts | None) -> dict[str, Any] | None:
    if known is None:
        return None
    return {"version": known.version, "listings": len(known), "products": len(set(known.product_ids))}


def _json_float(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 9)


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedDecider:
    """What a decider folder holds, checked and unpickled; the decider is built from it."""

    directory: Path
    stored_version: str
    classifier: Any
    calibrated: Any
    features: tuple[str, ...]
    explanation_baseline: tuple[float, ...]
    threshold: float
    model_bytes: bytes
    metadata: dict[str, Any]
    known: KnownProducts | None

    def check_version(self, version: str) -> None:
        """Refuse a folder whose manifest's version is not the one its contents give."""
        if version != self.stored_version:
            raise DeciderError(
                f"{self.directory / MANIFEST_FILE}: stored version {self.stored_version} does not match its contents"
                f" ({version})"
            )


def read_decider_files(directory: Path) -> SavedDecider:
    manifest = _read_manifest(directory / MANIFEST_FILE)
    model_bytes = _read_model_bytes(directory, manifest)
    try:
        classifier, calibrated = pickle.loads(model_bytes)  # noqa: S301 - hash-checked, trusted model folder
    except Exception as exc:  # unpickling can fail in many ways; each means "not loadable"
        raise DeciderError(f"{directory / MODEL_FILE} cannot be unpickled: {exc!r}") from None
    known_summary = manifest.get("known_products")
    return SavedDecider(
        directory=directory,
        stored_version=manifest["version"],
        classifier=classifier,
        calibrated=calibrated,
        features=tuple(manifest["features"]),
        explanation_baseline=tuple(
            math.nan if value is None else float(value) for value in manifest["explanation_baseline"]
        ),
        threshold=float(manifest["threshold"]),
        model_bytes=model_bytes,
        metadata={key: manifest[key] for key in _METADATA_KEYS if key in manifest},
        known=KnownProducts.load(directory, known_summary["version"]) if known_summary else None,
    )


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeciderError(f"no decider at {path.parent} ({path.name} missing)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeciderError(f"{path} is unreadable: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != KIND:
        kind = manifest.get("kind") if isinstance(manifest, dict) else None
        raise DeciderError(f"{path} holds a {kind!r} decider, expected {KIND!r}")
    if manifest.get("format") != FORMAT_VERSION:
        raise DeciderError(f"{path} has format {manifest.get('format')!r}; this release reads {FORMAT_VERSION}")
    _check_compatible(path, manifest)
    missing = [key for key in _REQUIRED_MANIFEST_KEYS if key not in manifest]
    if missing:
        raise DeciderError(f"{path} is incomplete: missing {', '.join(missing)}")
    return manifest


def _check_compatible(path: Path, manifest: Mapping[str, Any]) -> None:
    saved_sklearn = str(manifest.get("sklearn_version", "?"))
    if _major_minor(saved_sklearn) != _major_minor(sklearn.__version__):
        raise DeciderError(
            f"{path} was saved with scikit-learn {saved_sklearn}, this environment has {sklearn.__version__};"
            " install the matching scikit-learn or retrain the decider"
        )
    if manifest.get("feature_version") != FEATURE_VERSION:
        raise DeciderError(
            f"{path} was trained on feature version {manifest.get('feature_version')!r}, this release computes"
            f" version {FEATURE_VERSION!r}; retrain the decider"
        )
    unknown = sorted(set(manifest.get("features", ())) - set(feature_names()))
    if unknown:
        raise DeciderError(f"{path} uses features this release does not compute: {', '.join(unknown)}")


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _read_model_bytes(directory: Path, manifest: Mapping[str, Any]) -> bytes:
    path = directory / MODEL_FILE
    try:
        model_bytes = path.read_bytes()
    except FileNotFoundError:
        raise DeciderError(f"{path} is missing; the saved decider is incomplete") from None
    actual = hashlib.sha256(model_bytes).hexdigest()
    if actual != manifest["model_sha256"]:
        raise DeciderError(
            f"{path} does not match its manifest (sha256 {actual[:12]}…, expected"
            f" {str(manifest['model_sha256'])[:12]}…); the file was changed or belongs to another decider"
        )
    return model_bytes
