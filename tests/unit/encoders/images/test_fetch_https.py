"""TLS to the checked address: the real host name goes out as SNI and is what the certificate must match."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from encoders.images.errors import FetchLimits, PhotoError
from encoders.images.fetch import HttpPhotoFetcher
from tests.unit.encoders.images.photo_server import PhotoServer, jpeg_bytes, send

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command for a test cert")

LIMITS = FetchLimits(connect_timeout_s=0.5, read_timeout_s=0.5)
GOOD = jpeg_bytes()


def resolver(host: str, port: int) -> Sequence[str]:
    return {"photos.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}[host]


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=photos.test",
         "-addext", "subjectAltName=DNS:photos.test"],
        check=True, capture_output=True, timeout=20,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[PhotoServer, list[str | None]]]:
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    with PhotoServer({"/good.jpg": lambda h: send(h, GOOD)}) as server:
        server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
        yield server, names


def test_https_goes_to_the_checked_address_with_the_host_name_as_sni(
    tls_server: tuple[PhotoServer, list[str | None]], certificate: tuple[Path, Path]
) -> None:
    server, names = tls_server
    fetcher = HttpPhotoFetcher(LIMITS, resolver=resolver, allow_private_addresses=True, ca_certs=str(certificate[0]))
    assert fetcher.fetch(server.url("/good.jpg", scheme="https")) == GOOD
    assert names == ["photos.test"]


def test_a_certificate_for_another_name_is_refused(
    tls_server: tuple[PhotoServer, list[str | None]], certificate: tuple[Path, Path]
) -> None:
    server, _ = tls_server
    fetcher = HttpPhotoFetcher(LIMITS, resolver=resolver, allow_private_addresses=True, ca_certs=str(certificate[0]))
    with pytest.raises(PhotoError) as caught:
        fetcher.fetch(server.url("/good.jpg", host="other.test", scheme="https"))
    assert caught.value.reason == "unreachable" and "TLS" in caught.value.message
    assert server.requests == []


def test_an_untrusted_certificate_is_refused(tls_server: tuple[PhotoServer, list[str | None]]) -> None:
    server, _ = tls_server
    fetcher = HttpPhotoFetcher(LIMITS, resolver=resolver, allow_private_addresses=True)
    with pytest.raises(PhotoError) as caught:
        fetcher.fetch(server.url("/good.jpg", scheme="https"))
    assert caught.value.reason == "unreachable"
