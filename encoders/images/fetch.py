"""Where a listing's photo comes from: a local file under an images root, or an http(s) URL.

``RoutingPhotoFetcher`` picks the fetcher by scheme; every fetcher raises ``PhotoError`` (with a
stable ``reason``) and nothing else for a photo that cannot be had.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from encoders.images.errors import FetchLimits, PhotoError, describe_ref
from encoders.images.http_fetch import HttpPhotoFetcher

__all__ = ["FetchLimits", "HttpPhotoFetcher", "LocalPhotoFetcher", "PhotoError", "PhotoFetcher", "RoutingPhotoFetcher"]

_HTTP_SCHEMES = frozenset({"http", "https"})


class PhotoFetcher(Protocol):
    def fetch(self, ref: str) -> bytes:
        """The photo's bytes; PhotoError when it cannot be had."""
        ...


class LocalPhotoFetcher:
    """Files under ``root``: a relative path, or a ``file:`` reference; nothing outside the root, links included."""

    def __init__(self, root: Path, limits: FetchLimits | None = None) -> None:
        self.root = Path(root).resolve()
        self.limits = limits or FetchLimits()

    def fetch(self, ref: str) -> bytes:
        path = self._resolve(ref)
        try:
            # O_NONBLOCK: a FIFO planted under the root must not hang a loader thread on open.
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            raise PhotoError("not_found", f"{describe_ref(ref)}: no such photo") from None
        except OSError as error:
            raise PhotoError("unreachable", f"{describe_ref(ref)}: {error.strerror or type(error).__name__}") from None
        try:
            return _read_regular_file(descriptor, ref, self.limits.max_bytes)
        finally:
            os.close(descriptor)

    def _resolve(self, ref: str) -> Path:
        """The real path (links followed) of ``ref``, refused unless it lies under the root."""
        relative = _local_path(ref)
        candidate = relative if relative.is_absolute() else self.root / relative
        # Lexically first, so a path outside the root is refused whether or not it exists (no probing).
        if not Path(os.path.normpath(candidate)).is_relative_to(self.root):
            raise PhotoError("outside_root", f"{describe_ref(ref)}: outside the images root")
        try:
            real = candidate.resolve(strict=True)
        except FileNotFoundError:
            raise PhotoError("not_found", f"{describe_ref(ref)}: no such photo") from None
        except (OSError, RuntimeError) as error:  # RuntimeError: a symlink loop
            raise PhotoError("bad_reference", f"{describe_ref(ref)}: {type(error).__name__}") from None
        if not real.is_relative_to(self.root):
            raise PhotoError("outside_root", f"{describe_ref(ref)}: outside the images root")
        return real


def _read_regular_file(descriptor: int, ref: str, limit: int) -> bytes:
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        raise PhotoError("bad_reference", f"{describe_ref(ref)}: not a regular file")
    if info.st_size > limit:
        raise PhotoError("too_large", f"{describe_ref(ref)}: {info.st_size} bytes, over {limit}")
    with os.fdopen(os.dup(descriptor), "rb") as handle:
        data = handle.read(limit + 1)  # the file may have grown since fstat
    if len(data) > limit:
        raise PhotoError("too_large", f"{describe_ref(ref)}: over {limit} bytes")
    return data


def _local_path(ref: str) -> Path:
    if not ref or not ref.strip() or "\x00" in ref:
        raise PhotoError("bad_reference", "empty or malformed photo reference")
    if not ref.lower().startswith("file:"):
        return Path(ref)
    parts = urlsplit(ref)
    if parts.netloc not in ("", "localhost"):
        raise PhotoError("bad_reference", f"{describe_ref(ref)}: file references name no host")
    path = unquote(parts.path)
    if not path or "\x00" in path:
        raise PhotoError("bad_reference", f"{describe_ref(ref)}: no path")
    return Path(path)


class RoutingPhotoFetcher:
    """http(s) references to ``http``, paths and ``file:`` references to ``local``; any other scheme refused."""

    def __init__(self, local: PhotoFetcher | None, http: PhotoFetcher | None) -> None:
        self.local = local
        self.http = http

    def fetch(self, ref: str) -> bytes:
        fetcher = self._route(ref)
        return fetcher.fetch(ref)

    def _route(self, ref: str) -> PhotoFetcher:
        scheme = _scheme(ref)
        if scheme in _HTTP_SCHEMES:
            chosen, kind = self.http, "http(s)"
        elif scheme in ("", "file"):
            chosen, kind = self.local, "local"
        else:
            raise PhotoError("bad_reference", f"{describe_ref(ref)}: unsupported scheme {scheme!r}")
        if chosen is None:
            raise PhotoError("bad_reference", f"{describe_ref(ref)}: {kind} photos are not enabled")
        return chosen


def _scheme(ref: str) -> str:
    try:
        scheme = urlsplit(ref).scheme.lower()
    except ValueError:
        raise PhotoError("bad_reference", f"{describe_ref(ref)}: not a valid reference") from None
    # A Windows drive ("C:\\photos") parses as a one-letter scheme; it is a path.
    return "" if len(scheme) == 1 else scheme
