"""LocalPhotoFetcher stays under its root; RoutingPhotoFetcher picks a fetcher by scheme."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from encoders.images.errors import FetchLimits, PhotoError
from encoders.images.fetch import LocalPhotoFetcher, RoutingPhotoFetcher
from tests.unit.encoders.images.photo_server import jpeg_bytes

GOOD = jpeg_bytes()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    images = tmp_path / "images"
    (images / "shelf").mkdir(parents=True)
    (images / "shelf" / "milk.jpg").write_bytes(GOOD)
    (tmp_path / "secret.txt").write_bytes(b"outside the root")
    return images


def refused(fetcher: LocalPhotoFetcher | RoutingPhotoFetcher, ref: str) -> str:
    with pytest.raises(PhotoError) as caught:
        fetcher.fetch(ref)
    return caught.value.reason


def test_relative_paths_and_file_references_resolve_under_the_root(root: Path) -> None:
    fetcher = LocalPhotoFetcher(root)
    for ref in ("shelf/milk.jpg", "./shelf/../shelf/milk.jpg", "file:shelf/milk.jpg", f"file://{root}/shelf/milk.jpg"):
        assert fetcher.fetch(ref) == GOOD, ref
    assert fetcher.fetch(str(root / "shelf" / "milk.jpg")) == GOOD


def test_paths_escaping_the_root_are_refused(root: Path) -> None:
    fetcher = LocalPhotoFetcher(root)
    for ref in ("../secret.txt", "shelf/../../secret.txt", str(root.parent / "secret.txt"), "file:../secret.txt",
                f"file://{root.parent}/secret.txt", "file:///etc/hostname", "/etc/hostname"):  # fmt: skip
        assert refused(fetcher, ref) == "outside_root", ref
    assert refused(fetcher, "../no-such-file.jpg") == "outside_root"  # existence outside is never revealed


def test_a_symlink_out_of_the_root_is_refused_and_one_inside_is_followed(root: Path) -> None:
    (root / "escape.jpg").symlink_to(root.parent / "secret.txt")
    (root / "shelf" / "alias.jpg").symlink_to(root / "shelf" / "milk.jpg")
    fetcher = LocalPhotoFetcher(root)
    assert refused(fetcher, "escape.jpg") == "outside_root"
    assert fetcher.fetch("shelf/alias.jpg") == GOOD


def test_missing_files_directories_fifos_and_oversize_files_are_named(root: Path) -> None:
    os.mkfifo(root / "pipe.jpg")  # opening a FIFO for reading would block without O_NONBLOCK
    (root / "big.jpg").write_bytes(b"\0" * 2_000)
    fetcher = LocalPhotoFetcher(root, FetchLimits(max_bytes=1_000))
    assert refused(fetcher, "shelf/nothing.jpg") == "not_found"
    assert refused(fetcher, "shelf") == "bad_reference"
    assert refused(fetcher, "pipe.jpg") == "bad_reference"
    assert refused(fetcher, "big.jpg") == "too_large"
    for ref in ("", "   ", "a\x00b", "file://otherhost/x.jpg"):
        assert refused(fetcher, ref) == "bad_reference", repr(ref)


class Recorder:
    def __init__(self) -> None:
        self.refs: list[str] = []

    def fetch(self, ref: str) -> bytes:
        self.refs.append(ref)
        return b"photo"


def test_routing_by_scheme(root: Path) -> None:
    web = Recorder()
    router = RoutingPhotoFetcher(LocalPhotoFetcher(root), web)
    assert router.fetch("shelf/milk.jpg") == GOOD
    assert router.fetch("file:shelf/milk.jpg") == GOOD
    assert router.fetch("HTTPS://cdn.test/a.jpg") == b"photo" and router.fetch("http://cdn.test/b.jpg") == b"photo"
    assert web.refs == ["HTTPS://cdn.test/a.jpg", "http://cdn.test/b.jpg"]
    for ref in ("ftp://cdn.test/a.jpg", "data:image/png;base64,AAAA", "s3://bucket/a.jpg", "javascript:alert(1)"):
        assert refused(router, ref) == "bad_reference", ref
    assert refused(RoutingPhotoFetcher(LocalPhotoFetcher(root), None), "https://cdn.test/a.jpg") == "bad_reference"
    assert refused(RoutingPhotoFetcher(None, web), "shelf/milk.jpg") == "bad_reference"
