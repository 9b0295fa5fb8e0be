"""The two Milvus builds at hand, each giving a URI and the process whose memory holds the index.

Milvus Lite 3.2 is pure Python, served from threads of the process that opens its file: the serving
phase runs in a fresh child process (measure.serve), so its RSS growth is the loaded index alone.
The ``milvus`` 2.3.5 server is restarted on its data between building and serving for the same reason:
insert buffers and index building leave memory behind that a production query node would not hold.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from infra.stack.processes import log_tail, stop_process

SERVER_START_TIMEOUT_S = 180.0
SERVER_STOP_TIMEOUT_S = 5.0  # its SIGTERM shutdown can hang for minutes; then SIGKILL


BACKENDS = ("lite", "server", "server-mmap")  # server-mmap: the 2.3.5 server with queryNode.mmapDirPath set


class Backend(Protocol):
    name: str

    def uri(self) -> str: ...

    def memory_pid(self) -> int | None:
        """The process holding the index (None: the serving child itself)."""

    def restart(self) -> None: ...

    def index_file_bytes(self) -> int | None:
        """The built index's files on disk, a second measure beside RSS (None where not separable)."""


class LiteBackend:
    name = "lite"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "index.db"

    def uri(self) -> str:
        return str(self.path)

    def memory_pid(self) -> int | None:
        return None

    def restart(self) -> None:
        """Closes the file in this process (Lite 3.2 serves it from threads here and locks it), so that
        the serving child can open it afresh."""
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(self.uri())

    def index_file_bytes(self) -> int | None:
        return None  # Lite keeps its index inside its own files with the data


class ServerBackend:
    """The ``milvus`` package's standalone server on its own data folder, restartable on its data."""

    name = "server"

    def __init__(self, folder: Path, mmap: bool = False) -> None:
        import milvus  # the PyPI package (2.3.5): ships no type hints

        self.folder = folder
        self.mmap = mmap
        if mmap:
            self.name = "server-mmap"
        self._server: Any = milvus.MilvusServer(milvus.MilvusServerConfig(data_dir=str(folder)), wait_for_started=False)

    def uri(self) -> str:
        return f"http://127.0.0.1:{self._server.listen_port}"

    def memory_pid(self) -> int | None:
        return int(self._server.server_proc.pid)

    def start(self) -> None:
        # Each start probes free ports afresh (a restart may move): another server on this machine (a test
        # run) may have taken the old ones meanwhile, and its health check would pass for ours.
        with _environment(_mmap_environment(self.folder) if self.mmap else {}):
            self._server.start()
        try:
            self._server.wait_started(timeout=SERVER_START_TIMEOUT_S * 1000)
        except (TimeoutError, RuntimeError) as exc:
            self.stop()
            log = log_tail(self.folder / "logs" / "milvus-stdout.log")
            raise RuntimeError(f"Milvus server did not start: {exc}\n{log}") from None

    def stop(self) -> None:
        if self._server.server_proc is not None:
            stop_process(self._server.server_proc, SERVER_STOP_TIMEOUT_S)
        self._server.stop()  # closes its log files; the process is already gone

    def index_file_bytes(self) -> int | None:
        """Every file under the local storage's index_files (the 2,000-row warm-up's index included)."""
        files = (self.folder / "data").rglob("*")
        return sum(path.stat().st_size for path in files if path.is_file() and "index_files" in path.parts)

    def restart(self) -> None:
        self.stop()
        time.sleep(1.0)  # let the kernel release the ports before they are bound again
        self.start()


def _mmap_environment(folder: Path) -> dict[str, str]:
    """``queryNode.mmapDirPath`` (Milvus 2.3's mmap switch, read from the environment as QUERYNODE_MMAPDIRPATH):
    the query node maps loaded field data from files there instead of holding it on the heap."""
    mapped = folder / "mmap"
    mapped.mkdir(parents=True, exist_ok=True)
    return {"QUERYNODE_MMAPDIRPATH": str(mapped)}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """The server process copies this process's environment when it starts."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def backend(name: str, folder: Path) -> Iterator[Backend]:
    """A fresh backend on an empty folder, removed afterwards (the server unpacks ~600 MB there)."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        if name == "lite":
            yield LiteBackend(folder)
            return
        if name not in BACKENDS:
            raise ValueError(f"unknown backend {name!r}; known: {', '.join(BACKENDS)}")
        server = ServerBackend(folder, mmap=name == "server-mmap")
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
