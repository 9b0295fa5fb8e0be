"""Photos over http(s), fetched so that a listing's URL cannot reach inside the network.

Each hop (the first URL and every redirect, followed by hand) is checked for scheme, host allowlist
and resolved address; the connection then goes to the checked address itself while TLS uses the
real host name for SNI and certificate checking. Pools are built per hop and ignore proxy
variables, so nothing but the checked address is ever dialled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

import urllib3
from urllib3 import exceptions as http_errors
from urllib3.util import make_headers

from encoders.images.addresses import Resolver, resolve_checked, system_resolver
from encoders.images.errors import FetchLimits, PhotoError, describe_ref

_SCHEMES = {"http": 80, "https": 443}
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024
_USER_AGENT = "listing-dedup-photo-fetcher/1"


@dataclass(frozen=True)
class _Hop:
    """One URL to request, parsed and checked; ``auth`` is its userinfo, only ever sent to its own origin."""

    url: str
    scheme: str
    host: str
    port: int
    target: str
    auth: str | None

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == _SCHEMES[self.scheme] else f"{name}:{self.port}"


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def left(self, ref: str) -> float:
        remaining = self._end - time.monotonic()
        if remaining <= 0:
            raise PhotoError("timeout", f"{describe_ref(ref)}: not fetched within {self.seconds:.1f}s")
        return remaining


class HttpPhotoFetcher:
    """http(s) photos within ``limits``, from ``allowed_hosts`` only when given (exact names, lower case)."""

    def __init__(
        self,
        limits: FetchLimits,
        allowed_hosts: frozenset[str] | None = None,
        resolver: Resolver = system_resolver,
        *,
        allow_private_addresses: bool = False,
        ca_certs: str | None = None,
    ) -> None:
        self.limits = limits
        self.allowed_hosts = None if allowed_hosts is None else frozenset(_normal_host(h) for h in allowed_hosts)
        self._resolver = resolver
        self._allow_private = allow_private_addresses
        self._ca_certs = ca_certs

    def fetch(self, ref: str) -> bytes:
        deadline = _Deadline(self.limits.deadline_s)
        hop = self._check(ref, None)
        for _ in range(self.limits.max_redirects + 1):
            body, location = self._request(hop, deadline)
            if location is None:
                return body
            hop = self._check(urljoin(hop.url, location), hop)
        raise PhotoError("too_many_redirects", f"{describe_ref(ref)}: over {self.limits.max_redirects} redirects")

    def _check(self, url: str, came_from: _Hop | None) -> _Hop:
        hop = _parse(url)
        if hop.auth is None and came_from is not None and came_from.origin == hop.origin:
            hop = _Hop(hop.url, hop.scheme, hop.host, hop.port, hop.target, came_from.auth)
        if self.allowed_hosts is not None and hop.host not in self.allowed_hosts:
            raise PhotoError("not_allowed_host", f"{describe_ref(url)}: host {hop.host} is not in the allowlist")
        return hop

    def _request(self, hop: _Hop, deadline: _Deadline) -> tuple[bytes, str | None]:
        """The body of a 200, or the Location of a redirect."""
        timeout = min(self.limits.connect_timeout_s, deadline.left(hop.url))
        addresses = resolve_checked(hop.host, hop.port, self._resolver, timeout, self._allow_private)
        pool = self._pool(hop, addresses[0], deadline)
        try:
            response = pool.urlopen(
                "GET", hop.target, headers=self._headers(hop), retries=False, redirect=False,
                preload_content=False, decode_content=False,
            )
            try:
                return self._read(hop, response, deadline)
            finally:
                response.close()
        except PhotoError:
            raise
        except Exception as error:  # urllib3, ssl and socket errors: named by kind below
            raise _translate(error, hop) from None
        finally:
            pool.close()

    def _pool(self, hop: _Hop, address: str, deadline: _Deadline) -> urllib3.HTTPConnectionPool:
        remaining = deadline.left(hop.url)
        timeout = urllib3.Timeout(
            connect=min(self.limits.connect_timeout_s, remaining), read=min(self.limits.read_timeout_s, remaining)
        )
        if hop.scheme == "http":
            return urllib3.HTTPConnectionPool(address, hop.port, timeout=timeout, maxsize=1, retries=False)
        return urllib3.HTTPSConnectionPool(
            address, hop.port, timeout=timeout, maxsize=1, retries=False,
            cert_reqs="CERT_REQUIRED", ca_certs=self._ca_certs,
            server_hostname=hop.host, assert_hostname=hop.host,
        )  # fmt: skip

    @staticmethod
    def _headers(hop: _Hop) -> dict[str, str]:
        headers = {"Host": hop.host_header, "User-Agent": _USER_AGENT, "Accept": "image/*,*/*;q=0.5",
                   "Accept-Encoding": "identity"}  # fmt: skip
        if hop.auth is not None:
            headers.update(make_headers(basic_auth=hop.auth))
        return headers

    def _read(self, hop: _Hop, response: urllib3.BaseHTTPResponse, deadline: _Deadline) -> tuple[bytes, str | None]:
        if response.status in _REDIRECTS and response.headers.get("Location"):
            return b"", response.headers["Location"]
        if response.status != 200:
            raise PhotoError("http_status", f"{describe_ref(hop.url)}: HTTP {response.status}")
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise PhotoError("not_an_image", f"{describe_ref(hop.url)}: body sent {encoding}-encoded")
        length = response.headers.get("Content-Length", "").strip()
        if length.isdigit() and int(length) > self.limits.max_bytes:
            raise PhotoError("too_large", f"{describe_ref(hop.url)}: {length} bytes, over {self.limits.max_bytes}")
        return self._stream(hop, response, deadline), None

    def _stream(self, hop: _Hop, response: urllib3.BaseHTTPResponse, deadline: _Deadline) -> bytes:
        """The body, read chunk by chunk: stops one byte past the limit and at the deadline."""
        chunks: list[bytes] = []
        total, limit = 0, self.limits.max_bytes
        while True:
            _shorten_read_timeout(response, min(self.limits.read_timeout_s, deadline.left(hop.url)))
            chunk = response.read1(min(_CHUNK_BYTES, limit + 1 - total), decode_content=False)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > limit:
                raise PhotoError("too_large", f"{describe_ref(hop.url)}: body over {limit} bytes")
            chunks.append(chunk)


def _parse(url: str) -> _Hop:
    try:
        parts = urlsplit(url)
        port = parts.port
        host = _normal_host(parts.hostname or "")
    except (ValueError, UnicodeError):
        raise PhotoError("bad_reference", f"{describe_ref(url)}: not a valid URL") from None
    if parts.scheme.lower() not in _SCHEMES:
        raise PhotoError("bad_reference", f"{describe_ref(url)}: only http and https photos are fetched")
    if not host:
        raise PhotoError("bad_reference", f"{describe_ref(url)}: no host")
    scheme = parts.scheme.lower()
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    auth = unquote(parts.netloc.rsplit("@", 1)[0]) if "@" in parts.netloc else None
    return _Hop(url, scheme, host, port or _SCHEMES[scheme], target, auth)


def _normal_host(host: str) -> str:
    """Lower case, no trailing dot, IDNA-encoded: the form allowlists and certificates use."""
    host = host.strip().rstrip(".").lower()
    return host if host.isascii() else host.encode("idna").decode("ascii")


def _shorten_read_timeout(response: urllib3.BaseHTTPResponse, seconds: float) -> None:
    """Bound the next socket read by what is left of the deadline, not only by the per-read timeout."""
    connection = getattr(response, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


def _translate(error: Exception, hop: _Hop) -> PhotoError:
    where = describe_ref(hop.url)
    if isinstance(error, http_errors.NewConnectionError):  # a subclass of ConnectTimeoutError: test it first
        return PhotoError("unreachable", f"{where}: connection failed")
    if isinstance(error, http_errors.TimeoutError | TimeoutError):
        return PhotoError("timeout", f"{where}: timed out")
    if isinstance(error, http_errors.SSLError):
        return PhotoError("unreachable", f"{where}: TLS failed ({type(error.__context__ or error).__name__})")
    if isinstance(error, http_errors.HTTPError | OSError):
        return PhotoError("unreachable", f"{where}: {type(error).__name__}")
    return PhotoError("error", f"{where}: {type(error).__name__}")
