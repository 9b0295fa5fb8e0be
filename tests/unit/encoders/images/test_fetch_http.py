"""HttpPhotoFetcher against a real local HTTP server: every refusal the issue names, and a good photo."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler
from ipaddress import ip_address

import pytest

from encoders.images.addresses import refusal
from encoders.images.errors import FetchLimits, PhotoError, describe_ref
from encoders.images.fetch import HttpPhotoFetcher
from tests.unit.encoders.images.photo_server import PhotoServer, chunked, jpeg_bytes, redirect, send

LIMITS = FetchLimits(connect_timeout_s=0.3, read_timeout_s=0.3, max_bytes=50_000, max_redirects=2)
GOOD = jpeg_bytes()
DNS = {
    "photos.test": ["127.0.0.1"],
    "cdn.test": ["127.0.0.1"],
    "intranet.test": ["10.0.0.5"],
    "metadata.test": ["169.254.169.254"],
    "mixed.test": ["93.184.215.14", "10.0.0.5"],
}


def stub_resolver(host: str, port: int) -> Sequence[str]:
    return DNS[host]


def fetcher(allowed: frozenset[str] | None = None, limits: FetchLimits = LIMITS, **kw: object) -> HttpPhotoFetcher:
    """The test hook frees loopback (where the test server is) and private ranges, as documented."""
    return HttpPhotoFetcher(limits, allowed, resolver=stub_resolver, allow_private_addresses=True, **kw)  # type: ignore[arg-type]


def slow(stop_after: float) -> object:
    def route(handler: BaseHTTPRequestHandler) -> None:
        if not handler.server.stopping.wait(stop_after):  # type: ignore[attr-defined]
            send(handler, GOOD)

    return route


@pytest.fixture
def server() -> Iterator[PhotoServer]:
    routes = {"/good.jpg": lambda h: send(h, GOOD)}
    with PhotoServer(routes) as running:
        running.httpd.stopping = running.stopping  # type: ignore[attr-defined]
        yield running


def refused(fetch: HttpPhotoFetcher, url: str) -> PhotoError:
    with pytest.raises(PhotoError) as caught:
        fetch.fetch(url)
    return caught.value


def test_a_good_jpeg_is_fetched_with_the_real_host_name(server: PhotoServer) -> None:
    assert fetcher().fetch(server.url("/good.jpg")) == GOOD
    path, headers = server.requests[-1]
    assert path == "/good.jpg" and headers["Host"] == f"photos.test:{server.port}"


def test_loopback_is_refused_by_default_by_address_and_by_name(server: PhotoServer) -> None:
    default = HttpPhotoFetcher(LIMITS, resolver=stub_resolver)
    for url in (server.url("/good.jpg", host="127.0.0.1"), server.url("/good.jpg"), f"http://[::1]:{server.port}/"):
        assert refused(default, url).reason == "blocked_address"
    assert server.requests == []


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    default = HttpPhotoFetcher(LIMITS, resolver=stub_resolver)
    error = refused(default, "http://intranet.test/photo.jpg")
    assert error.reason == "blocked_address" and "private" in error.message
    assert refused(default, "http://mixed.test/photo.jpg").reason == "blocked_address"


@pytest.mark.parametrize(
    "address",
    ["10.0.0.5", "172.16.3.4", "192.168.1.1", "127.0.0.1", "::1", "169.254.169.254", "fd00:ec2::254", "fe80::1",
     "224.0.0.1", "0.0.0.0", "100.64.0.1", "240.0.0.1", "::ffff:127.0.0.1", "2002:7f00:1::", "64:ff9b::a00:5"],
)  # fmt: skip
def test_internal_addresses_are_refused_by_default(address: str) -> None:
    assert refusal(ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ip_address(address)) is None


def test_the_test_hook_never_frees_metadata_or_link_local_addresses() -> None:
    assert refusal(ip_address("127.0.0.1"), allow_private=True) is None
    assert refusal(ip_address("10.0.0.5"), allow_private=True) is None
    for address in ("169.254.169.254", "fd00:ec2::254", "fe80::1", "224.0.0.1"):
        assert refusal(ip_address(address), allow_private=True) is not None


def test_a_redirect_to_the_metadata_service_is_refused(server: PhotoServer) -> None:
    server.routes["/to-metadata"] = redirect("http://metadata.test/latest/meta-data/")
    server.routes["/to-literal"] = redirect("http://169.254.169.254/latest/meta-data/")
    allowed = frozenset({"photos.test", "metadata.test", "169.254.169.254"})
    for path in ("/to-metadata", "/to-literal"):
        assert refused(fetcher(allowed), server.url(path)).reason == "blocked_address"
    assert [path for path, _ in server.requests] == ["/to-metadata", "/to-literal"]


def test_hosts_outside_the_allowlist_are_refused_directly_and_after_a_redirect(server: PhotoServer) -> None:
    server.routes["/elsewhere"] = redirect(server.url("/good.jpg", host="cdn.test"))
    only_photos = fetcher(frozenset({"Photos.Test"}))
    assert refused(only_photos, server.url("/good.jpg", host="cdn.test")).reason == "not_allowed_host"
    assert refused(only_photos, server.url("/elsewhere")).reason == "not_allowed_host"
    assert [path for path, _ in server.requests] == ["/elsewhere"]
    assert fetcher(frozenset({"photos.test", "cdn.test"})).fetch(server.url("/elsewhere")) == GOOD


def test_redirects_are_followed_a_bounded_number_of_times_and_only_to_http(server: PhotoServer) -> None:
    server.routes.update({"/a": redirect("/b", 301), "/b": redirect("/good.jpg", 307), "/loop": redirect("/loop")})
    server.routes["/to-file"] = redirect("file:///etc/passwd")
    assert fetcher().fetch(server.url("/a")) == GOOD
    assert refused(fetcher(), server.url("/loop")).reason == "too_many_redirects"
    assert len(server.requests) == 2 + 1 + LIMITS.max_redirects + 1
    assert refused(fetcher(), server.url("/to-file")).reason == "bad_reference"


def test_an_oversize_body_is_refused_by_content_length_and_while_streaming(server: PhotoServer) -> None:
    big = b"\xff" * (LIMITS.max_bytes + 1)
    server.routes["/declared"] = lambda h: send(h, big)
    pieces_sent: list[int] = []

    def endless() -> Iterator[bytes]:
        while len(pieces_sent) < 4_000:  # 64 MB if the client read to the end
            pieces_sent.append(1)
            yield b"\xff" * 16_384

    server.routes["/chunked"] = chunked(endless())
    assert refused(fetcher(), server.url("/declared")).reason == "too_large"
    assert refused(fetcher(), server.url("/chunked")).reason == "too_large"
    assert len(pieces_sent) < 4_000  # it stopped reading: only what the socket buffers took was ever sent


def test_a_server_that_never_answers_times_out_within_the_limit(server: PhotoServer) -> None:
    server.routes["/slow"] = slow(5.0)
    started = time.monotonic()
    assert refused(fetcher(), server.url("/slow")).reason == "timeout"
    assert time.monotonic() - started < LIMITS.read_timeout_s + 1.0  # the server would take 5 s; slack for a busy CI


def test_a_server_dripping_bytes_hits_the_overall_deadline(server: PhotoServer) -> None:
    server.routes["/drip"] = chunked([b"\xff"] * 100, pause_s=0.05, stop=server.stopping)  # 5 s in all
    started = time.monotonic()
    assert refused(fetcher(), server.url("/drip")).reason == "timeout"
    assert time.monotonic() - started < LIMITS.deadline_s + 1.0  # per-read timeouts alone would allow 5 s


def test_an_error_status_is_named_and_credentials_never_reach_the_message(server: PhotoServer) -> None:
    error = refused(fetcher(), server.url("/missing").replace("://", "://ann:s3cret@") + "?X-Amz-Signature=abc")
    assert error.reason == "http_status" and "404" in error.message
    assert "s3cret" not in error.message and "abc" not in error.message and "***@" in error.message
    sent = {name.lower(): value for name, value in server.requests[-1][1].items()}
    assert sent["authorization"].startswith("Basic ")


def test_unsupported_schemes_and_malformed_urls_are_bad_references() -> None:
    for url in ("ftp://photos.test/a.jpg", "http:///a.jpg", "http://photos.test:99999/a.jpg", "gopher://x"):
        assert refused(fetcher(), url).reason == "bad_reference"


def test_an_unreachable_port_is_named_unreachable(server: PhotoServer) -> None:
    url = server.url("/good.jpg")
    server.__exit__()
    assert refused(fetcher(), url).reason == "unreachable"


def test_describe_ref_and_photo_errors_mask_userinfo_and_queries() -> None:
    shown = describe_ref("https://user:pw@cdn.test/p/1.jpg?token=t0ps3cret")
    assert shown == "https://***@cdn.test/p/1.jpg?…"
    error = PhotoError("error", "library said: GET https://user:pw@cdn.test/a.jpg?sig=t0ps3cret failed")
    assert error.message == "library said: GET https://***@cdn.test/a.jpg?… failed"
