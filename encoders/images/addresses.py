"""Which network addresses a photo may be fetched from, and host resolution under a deadline.

The check runs on resolved addresses, not on names: a public name can point at 127.0.0.1 or at the
cloud metadata service, and the fetcher then connects to the very address checked here (no second
lookup an attacker's DNS could answer differently).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

from encoders.images.errors import PhotoError

IPAddress = IPv4Address | IPv6Address
# (host, port) -> the addresses it resolves to, as strings; injectable so tests need no DNS.
Resolver = Callable[[str, int], Sequence[str]]

# AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba; most are non-global anyway, named so no hook frees them.
METADATA_ADDRESSES = frozenset(ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))
_NAT64 = IPv6Network("64:ff9b::/96")
# getaddrinfo has no timeout of its own; lookups run here so a hung resolver costs a bounded thread.
_DNS_THREADS = 4
_dns_pool: ThreadPoolExecutor | None = None
_dns_pool_lock = threading.Lock()


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one merely carries (mapped, NAT64, 6to4): checked as itself."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def refusal(address: IPAddress, allow_private: bool = False) -> str | None:
    """Why connecting to ``address`` is refused, or None when it is a public unicast address.

    ``allow_private`` (tests, on-premises photo stores) frees loopback and private ranges, never
    link-local, metadata, multicast, reserved or unspecified addresses.
    """
    if isinstance(address, IPv6Address):
        address = _embedded_ipv4(address) or address
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    for kind, flagged in (
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
    ):
        if flagged:
            return f"a {kind} address"
    if address.is_loopback:  # before reserved: ::1 sits in the reserved ::/8
        return None if allow_private else "a loopback address"
    if address.is_reserved:
        return "a reserved address"
    if address.is_private and allow_private:
        return None
    if not address.is_global:
        return "a private or non-global address"
    return None


def parse_address(text: str) -> IPAddress | None:
    try:
        return ip_address(text.split("%", 1)[0])  # an IPv6 zone (fe80::1%eth0) is not part of the address
    except ValueError:
        return None


def resolve_checked(host: str, port: int, resolver: Resolver, timeout_s: float, allow_private: bool) -> list[str]:
    """Every address of ``host`` if all of them may be fetched from; PhotoError otherwise.

    One bad address refuses the host: a name that mixes public and internal answers is an attack or
    a misconfiguration, and picking the public one would leave the choice to the connecting code.
    """
    literal = parse_address(host)
    texts = [host] if literal is not None else _lookup(host, port, resolver, timeout_s)
    addresses = [parse_address(text) for text in texts]
    if not addresses or any(address is None for address in addresses):
        raise PhotoError("unreachable", f"{host} did not resolve to IP addresses")
    for address in addresses:
        why = refusal(address, allow_private)  # type: ignore[arg-type]
        if why is not None:
            raise PhotoError("blocked_address", f"{host} resolves to {why}; photos are fetched from public hosts only")
    return [str(address) for address in addresses]


def _resolver_pool() -> ThreadPoolExecutor:
    global _dns_pool
    with _dns_pool_lock:
        if _dns_pool is None:
            _dns_pool = ThreadPoolExecutor(_DNS_THREADS, thread_name_prefix="photo-dns")
        return _dns_pool


def _lookup(host: str, port: int, resolver: Resolver, timeout_s: float) -> Sequence[str]:
    future = _resolver_pool().submit(resolver, host, port)
    try:
        return future.result(timeout=max(timeout_s, 0.0))
    except FutureTimeout:
        future.cancel()
        raise PhotoError("timeout", f"resolving {host} took over {timeout_s:.1f}s") from None
    except OSError as error:
        raise PhotoError("unreachable", f"{host} did not resolve: {error.strerror or error}") from None
