"""PCA projection of encoder vectors to a narrower width (384 -> 128 by default), numpy only.

A fitted reducer is tied to the encoder version it was fitted on (``source``) and identified by a
``version`` hashed from its parameters, so a cache or index can refuse vectors from another fit and
a corrupted file is caught at load time instead of silently producing wrong neighbours.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from encoders.errors import ReducerError
from infra.files import write_atomically

REDUCER_KIND = "pca"
FORMAT_VERSION = 1
PARAMETERS_FILE = "reducer.npz"
METADATA_FILE = "reducer.json"
_VERSION_HASH_HEX = 12
# Components whose variance is below this share of the largest one are numerically zero; whitening
# them would divide by ~0 and turn noise into full-length directions.
_WHITEN_RELATIVE_FLOOR = 1e-10


class PcaReducer:
    """Centres, projects onto the top ``dim`` principal components, then L2-normalises.

    Build one with :meth:`fit` or :meth:`load`. With ``whiten`` the per-component scaling is folded
    into ``components``, so transform is the same affine map either way.
    """

    def __init__(
        self,
        *,
        mean: np.ndarray,
        components: np.ndarray,
        source: str,
        whiten: bool,
        fitted_on: int,
        explained_variance_ratio: np.ndarray,
    ) -> None:
        if mean.ndim != 1 or components.ndim != 2 or components.shape[1] != mean.shape[0]:
            raise ReducerError(
                f"inconsistent PCA parameters: mean {mean.shape}, components {components.shape}"
            )
        if explained_variance_ratio.shape != (components.shape[0],):
            raise ReducerError(
                f"explained variance has {explained_variance_ratio.shape} entries for {components.shape[0]} components"
            )
        self._mean = np.ascontiguousarray(mean, dtype=np.float32)
        self._components = np.ascontiguousarray(components, dtype=np.float32)
        self.source = source
        self.whiten = whiten
        self.fitted_on = fitted_on
        self.explained_variance_ratio = np.asarray(explained_variance_ratio, dtype=np.float64)
        self.dim = int(components.shape[0])
        self.input_dim = int(components.shape[1])
        self.version = _parameters_version(self._mean, self._components, source=source, whiten=whiten)

    @property
    def mean(self) -> np.ndarray:
        """The (input_dim,) centre subtracted before projecting (read-only view)."""
        return _read_only(self._mean)

    @property
    def components(self) -> np.ndarray:
        """The (dim, input_dim) projection rows, whitening folded in when enabled (read-only view)."""
        return _read_only(self._components)

    def __repr__(self) -> str:
        return f"PcaReducer(version={self.version!r}, {self.input_dim}->{self.dim}, source={self.source!r})"

    @classmethod
    def fit(cls, vectors: np.ndarray, *, dim: int = 128, source: str, whiten: bool = False) -> PcaReducer:
        """Fit on ``vectors`` (n, input_dim) produced by the encoder whose version is ``source``."""
        data = _check_fit_input(vectors, dim=dim, source=source)
        mean = data.mean(axis=0)
        centred = data - mean
        # eigh of the (d, d) covariance costs O(n d^2) like the SVD, but stays small when n is large.
        covariance = centred.T @ centred / (data.shape[0] - 1)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        eigenvalues = np.clip(eigenvalues[::-1], 0.0, None)
        components = _canonical_signs(eigenvectors[:, ::-1][:, :dim].T)
        top_variances = eigenvalues[:dim]
        total_variance = float(eigenvalues.sum())
        ratio = top_variances / total_variance if total_variance > 0 else np.zeros(dim)
        if whiten:
            components = components / np.sqrt(_whitenable(top_variances, dim))[:, None]
        return cls(
            mean=mean,
            components=components,
            source=source,
            whiten=whiten,
            fitted_on=int(data.shape[0]),
            explained_variance_ratio=ratio,
        )

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Project (n, input_dim) vectors to (n, dim) float32 rows of unit length."""
        data = np.asarray(vectors, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != self.input_dim:
            width = data.shape[-1] if data.ndim >= 1 else "scalar"
            raise ReducerError(
                f"reducer expects vectors of width {self.input_dim}, got width {width} (shape {data.shape})"
            )
        projected = (data - self._mean) @ self._components.T
        norms = np.linalg.norm(projected, axis=1, keepdims=True)
        # A vector equal to the mean projects to 0 and has no direction; keep it 0 instead of NaN.
        return (projected / np.maximum(norms, np.finfo(np.float32).tiny)).astype(np.float32, copy=False)

    def check_source(self, encoder_version: str) -> None:
        """Refuse to project vectors from an encoder other than the one this was fitted on."""
        if encoder_version != self.source:
            raise ReducerError(f"reducer fitted on {self.source}, encoder is {encoder_version}")

    def save(self, directory: Path) -> None:
        """Write ``reducer.npz`` and ``reducer.json``; the JSON goes last and marks the save complete."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_atomically(directory / PARAMETERS_FILE, self._save_parameters)
        metadata = json.dumps(self._metadata(), indent=2, sort_keys=True) + "\n"
        write_atomically(directory / METADATA_FILE, lambda path: path.write_text(metadata, encoding="utf-8"))

    @classmethod
    def load(cls, directory: Path) -> PcaReducer:
        """Read a saved reducer and check its parameters still hash to the stored version."""
        directory = Path(directory)
        metadata = _read_metadata(directory / METADATA_FILE)
        mean, components = _read_parameters(directory / PARAMETERS_FILE)
        try:
            reducer = cls(
                mean=mean,
                components=components,
                source=metadata["source"],
                whiten=metadata["whiten"],
                fitted_on=metadata["fitted_on"],
                explained_variance_ratio=np.asarray(metadata["explained_variance_ratio"], dtype=np.float64),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ReducerError(f"{directory / METADATA_FILE} is malformed: {exc!r}") from exc
        _check_loaded(reducer, metadata, directory)
        return reducer

    def _save_parameters(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez(handle, mean=self._mean, components=self._components)

    def _metadata(self) -> dict[str, Any]:
        return {
            "kind": REDUCER_KIND,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "dim": self.dim,
            "input_dim": self.input_dim,
            "source": self.source,
            "whiten": self.whiten,
            "fitted_on": self.fitted_on,
            "explained_variance_ratio": [float(value) for value in self.explained_variance_ratio],
        }


def _check_fit_input(vectors: np.ndarray, *, dim: int, source: str) -> np.ndarray:
    data = np.asarray(vectors, dtype=np.float64)
    if data.ndim != 2:
        raise ReducerError(f"fit needs a 2-d array (n, input_dim), got shape {data.shape}")
    n_samples, input_dim = data.shape
    if not 1 <= dim <= input_dim:
        raise ReducerError(f"dim must be between 1 and the input width {input_dim}, got {dim}")
    # Centring removes one degree of freedom: n samples span at most n - 1 directions.
    if n_samples <= dim:
        raise ReducerError(f"fitting {dim} components needs more than {dim} vectors, got {n_samples}")
    if not np.isfinite(data).all():
        raise ReducerError("fit input contains NaN or infinite values")
    if not source:
        raise ReducerError("source must name the encoder version the vectors came from")
    return data


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def _canonical_signs(components: np.ndarray) -> np.ndarray:
    """Flip each component so its largest-magnitude entry is positive.

    An eigenvector's sign is arbitrary; fixing it makes the same data give the same version.
    """
    pivots = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), pivots])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def _whitenable(variances: np.ndarray, dim: int) -> np.ndarray:
    floor = _WHITEN_RELATIVE_FLOOR * float(variances[0]) if variances.size else 0.0
    rank = int(np.count_nonzero(variances > floor))
    if rank < dim:
        raise ReducerError(f"cannot whiten {dim} components: the data has only {rank} directions with variance")
    return variances


def _parameters_version(mean: np.ndarray, components: np.ndarray, *, source: str, whiten: bool) -> str:
    digest = hashlib.sha256()
    header = {"kind": REDUCER_KIND, "source": source, "whiten": whiten, "shape": list(components.shape)}
    digest.update(json.dumps(header, sort_keys=True).encode())
    digest.update(mean.astype("<f4", copy=False).tobytes())
    digest.update(components.astype("<f4", copy=False).tobytes())
    return f"{REDUCER_KIND}{components.shape[0]}-{digest.hexdigest()[:_VERSION_HASH_HEX]}"


def _read_metadata(path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReducerError(f"no saved reducer at {path.parent} ({path.name} missing); fit and save one first") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReducerError(f"{path} is unreadable: {exc}") from exc
    if not isinstance(metadata, dict):
        raise ReducerError(f"{path} is malformed: expected a JSON object")
    if metadata.get("kind") != REDUCER_KIND:
        raise ReducerError(f"{path} holds a {metadata.get('kind')!r} reducer, expected {REDUCER_KIND!r}")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ReducerError(
            f"{path} has format version {metadata.get('format_version')!r}; this code reads {FORMAT_VERSION}"
        )
    return metadata


def _read_parameters(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        # Our own handle: np.load leaks the file it opened when the archive is truncated.
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as stored:
            return stored["mean"], stored["components"]
    except FileNotFoundError as exc:
        raise ReducerError(f"{path} is missing; the saved reducer is incomplete") from exc
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ReducerError(f"{path} is corrupted: {exc}") from exc


def _check_loaded(reducer: PcaReducer, metadata: dict[str, Any], directory: Path) -> None:
    if reducer.version != metadata.get("version"):
        raise ReducerError(
            f"reducer in {directory} is corrupted: its parameters hash to {reducer.version}, "
            f"but {METADATA_FILE} says {metadata.get('version')!r}"
        )
    declared = (metadata.get("dim"), metadata.get("input_dim"))
    if declared != (reducer.dim, reducer.input_dim):
        raise ReducerError(
            f"reducer in {directory} is inconsistent: {METADATA_FILE} declares {declared[1]}->{declared[0]}, "
            f"parameters are {reducer.input_dim}->{reducer.dim}"
        )
