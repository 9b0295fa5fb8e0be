"""The one error a photo can fail with, and the limits every fetch and decode is held to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_MAX_REF_CHARS = 160
# Any URL inside a message (a library's exception text, say): its userinfo and its query go.
_USERINFO = re.compile(r"//[^/@\s]+@")
_QUERY = re.compile(r"(\w+://[^\s?#]*)\?[^\s#]*")


@dataclass(frozen=True)
class FetchLimits:
    """Bounds on one photo: time, bytes on the wire, pixels declared by its header, redirects followed."""

    connect_timeout_s: float = 2.0
    read_timeout_s: float = 5.0
    max_bytes: int = 8 * 1024 * 1024
    max_pixels: int = 40_000_000
    max_redirects: int = 3

    def __post_init__(self) -> None:
        if self.connect_timeout_s <= 0 or self.read_timeout_s <= 0:
            raise ValueError("photo fetch timeouts must be positive")
        if self.max_bytes <= 0 or self.max_pixels <= 0 or self.max_redirects < 0:
            raise ValueError("photo limits must be positive (max_redirects may be 0)")

    @property
    def deadline_s(self) -> float:
        """The whole fetch, redirects included: a server dripping bytes never trips a per-read timeout."""
        return self.connect_timeout_s + self.read_timeout_s


class PhotoError(Exception):
    """A photo that cannot be used. ``reason`` is a short stable kind (a metric label), the message one line."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(scrub(" ".join(message.split())))
        self.reason = reason

    @property
    def message(self) -> str:
        return str(self)


def describe_ref(ref: str) -> str:
    """A reference fit for logs and events: no userinfo, no query (presigned URLs carry signatures there)."""
    try:
        parts = urlsplit(ref)
    except ValueError:
        return "<unparseable reference>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    shown = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme and netloc else parts.path or ref.split("?")[0]
    if parts.query:
        shown += "?…"
    if len(shown) > _MAX_REF_CHARS:
        shown = shown[: _MAX_REF_CHARS - 1] + "…"
    return " ".join(shown.split()) or "<empty reference>"


def scrub(text: str) -> str:
    """``text`` with the credentials any URL in it might carry masked."""
    return _QUERY.sub(r"\1?…", _USERINFO.sub("//***@", text))
