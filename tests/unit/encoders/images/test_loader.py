"""PhotoLoader: order kept, None where no photo, every failure a PhotoFailure, nothing raised."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from encoders.images.errors import FetchLimits, PhotoError
from encoders.images.fetch import HttpPhotoFetcher, LocalPhotoFetcher, RoutingPhotoFetcher
from encoders.images.loader import LoadedPhoto, PhotoFailure, PhotoLoader
from tests.unit.encoders.images.photo_server import PhotoServer, jpeg_bytes, png_declaring, send

LIMITS = FetchLimits(connect_timeout_s=0.3, read_timeout_s=0.3, max_bytes=100_000, max_pixels=1_000_000)


class StubFetcher:
    """Photos by name; the first ones are the slowest, so finishing order is the reverse of input order."""

    def __init__(self, photos: dict[str, bytes | Exception]) -> None:
        self.photos = photos

    def fetch(self, ref: str) -> bytes:
        time.sleep(0.02 * max(0, 5 - list(self.photos).index(ref)))
        found = self.photos[ref]
        if isinstance(found, Exception):
            raise found
        return found


def test_order_is_kept_and_failures_become_photo_failures() -> None:
    photos: dict[str, bytes | Exception] = {
        "a": jpeg_bytes((10, 10)),
        "missing": PhotoError("not_found", "missing: no such photo"),
        "bug": RuntimeError("GET http://u:pw@x.test/a failed\nsecond line"),
        "text": b"not an image",
        "b": jpeg_bytes((20, 10)),
    }
    with PhotoLoader(StubFetcher(photos), LIMITS, threads=4) as loader:
        results = loader.load(["a", None, "missing", "bug", "text", "b", None])
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["LoadedPhoto", "NoneType"] + ["PhotoFailure"] * 3 + ["LoadedPhoto", "NoneType"]
    first, last = results[0], results[5]
    assert isinstance(first, LoadedPhoto) and first.ref == "a" and first.image.size == (10, 10)
    assert isinstance(last, LoadedPhoto) and last.image.size == (20, 10)
    reasons = [(r.ref, r.reason) for r in results if isinstance(r, PhotoFailure)]
    assert reasons == [("missing", "not_found"), ("bug", "error"), ("text", "not_an_image")]
    bug = results[3]
    assert isinstance(bug, PhotoFailure) and "RuntimeError" in bug.message and "\n" not in bug.message
    assert "pw" not in bug.message


def test_submit_overlaps_with_other_work_and_an_empty_batch_is_done_at_once() -> None:
    release = threading.Event()

    class Gated:
        def fetch(self, ref: str) -> bytes:
            release.wait(2)
            return jpeg_bytes((4, 4))

    with PhotoLoader(Gated(), LIMITS, threads=2) as loader:
        future = loader.submit(["x", "y", "z"])
        assert not future.done()  # the caller is free to encode text meanwhile
        release.set()
        assert all(isinstance(r, LoadedPhoto) for r in future.result(timeout=5))
        assert loader.submit([None, None]).result(timeout=0) == [None, None]
        assert loader.submit([]).result(timeout=0) == []


def test_closing_abandons_photos_not_started_but_completes_the_batch() -> None:
    started = threading.Event()

    class Slow:
        def fetch(self, ref: str) -> bytes:
            started.set()
            time.sleep(0.1)
            return jpeg_bytes((4, 4))

    loader = PhotoLoader(Slow(), LIMITS, threads=1)
    future = loader.submit(["one", "two", "three"])
    started.wait(2)
    loader.close()
    results = future.result(timeout=5)
    assert isinstance(results[0], LoadedPhoto)
    assert [r.reason for r in results[1:] if isinstance(r, PhotoFailure)] == ["cancelled", "cancelled"]


@pytest.fixture
def server() -> Iterator[PhotoServer]:
    good, bomb = jpeg_bytes((16, 12)), png_declaring(20_000, 20_000)
    routes = {"/good.jpg": lambda h: send(h, good), "/bomb.png": lambda h: send(h, bomb)}
    with PhotoServer(routes) as running:
        yield running


def test_real_fetchers_through_the_loader(server: PhotoServer, tmp_path: Path) -> None:
    (tmp_path / "local.jpg").write_bytes(jpeg_bytes((8, 8)))

    def resolver(host: str, port: int) -> Sequence[str]:
        return ["127.0.0.1"] if host == "photos.test" else ["10.0.0.5"]

    web = HttpPhotoFetcher(LIMITS, frozenset({"photos.test", "intranet.test"}), resolver, allow_private_addresses=False)
    hooked = HttpPhotoFetcher(LIMITS, frozenset({"photos.test"}), resolver, allow_private_addresses=True)
    refs = [server.url("/good.jpg"), server.url("/bomb.png"), "local.jpg", "../escape.jpg", server.url("/gone.jpg"),
            "http://intranet.test/a.jpg", None]  # fmt: skip
    with PhotoLoader(RoutingPhotoFetcher(LocalPhotoFetcher(tmp_path, LIMITS), hooked), LIMITS) as loader:
        results = loader.load(refs[:5])
    assert isinstance(results[0], LoadedPhoto) and results[0].image.size == (16, 12)
    assert isinstance(results[2], LoadedPhoto) and results[2].image.size == (8, 8)
    assert [r.reason for r in (results[1], results[3], results[4]) if isinstance(r, PhotoFailure)] == [
        "too_many_pixels", "outside_root", "http_status"]  # fmt: skip
    with PhotoLoader(RoutingPhotoFetcher(None, web), LIMITS, threads=2) as loader:
        blocked = loader.load(refs[5:])
    assert isinstance(blocked[0], PhotoFailure) and blocked[0].reason == "blocked_address" and blocked[1] is None
