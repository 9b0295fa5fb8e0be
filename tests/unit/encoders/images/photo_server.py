"""A real HTTP server on 127.0.0.1 (port 0, own thread) whose routes misbehave on purpose, and test photos."""

from __future__ import annotations

import io
import struct
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

Route = Callable[[BaseHTTPRequestHandler], None]


def jpeg_bytes(size: tuple[int, int] = (32, 24), colour: tuple[int, int, int] = (200, 40, 40), **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A valid 1x1 PNG whose header is patched to declare ``width`` x ``height``: a bomb in 70 bytes."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    ihdr = 8  # after the signature: length (4), b"IHDR" (4), 13 bytes of fields, CRC (4)
    fields = bytes(data[ihdr + 8 : ihdr + 21])
    fields = struct.pack(">II", width, height) + fields[8:]
    data[ihdr + 8 : ihdr + 21] = fields
    data[ihdr + 21 : ihdr + 25] = struct.pack(">I", zlib.crc32(b"IHDR" + fields))
    return bytes(data)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up mid-body is what the fetcher under test is meant to do


class PhotoServer:
    """Routes by path; ``requests`` records (path, headers) of what reached it."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    send(self, b"no such photo", status=404)
                else:
                    route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, path: str, host: str = "photos.test", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> PhotoServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # wakes handlers that wait on purpose
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=2)


def send(
    handler: BaseHTTPRequestHandler, body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> None:
    handler.send_response(status)
    for name, value in {"Content-Type": "image/jpeg", "Content-Length": str(len(body)), **(headers or {})}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def redirect(location: str, status: int = 302) -> Route:
    return lambda handler: send(handler, b"", status=status, headers={"Location": location})


def chunked(
    pieces: Iterator[bytes] | Sequence[bytes], pause_s: float = 0.0, stop: threading.Event | None = None
) -> Route:
    """A body without Content-Length, in chunks, optionally dripped with a pause between them."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        try:
            for piece in pieces:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                handler.wfile.flush()
                if pause_s and stop is not None and stop.wait(pause_s):
                    return
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client gave up, as it should
            pass

    return route
