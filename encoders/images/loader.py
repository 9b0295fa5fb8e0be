"""Photos of a batch, fetched and decoded in a thread pool while the batch's text is being encoded.

One photo never fails the batch: every outcome is a ``LoadedPhoto`` or a ``PhotoFailure`` carrying
a stable reason (a metric label) and a one-line message; ``None`` stands where a listing has no photo.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from PIL import Image

from encoders.images.decode import decode_photo
from encoders.images.errors import FetchLimits, PhotoError, describe_ref, scrub
from encoders.images.fetch import PhotoFetcher


@dataclass(frozen=True)
class LoadedPhoto:
    ref: str
    image: Image.Image


@dataclass(frozen=True)
class PhotoFailure:
    ref: str
    reason: str
    message: str


PhotoOutcome = LoadedPhoto | PhotoFailure | None


class PhotoLoader:
    """Fetch + decode on ``threads`` threads; results in the order of the references given."""

    def __init__(self, fetcher: PhotoFetcher, limits: FetchLimits, threads: int = 4) -> None:
        if threads < 1:
            raise ValueError("a photo loader needs at least one thread")
        self.fetcher = fetcher
        self.limits = limits
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="photo-load")

    def load(self, refs: Sequence[str | None]) -> list[PhotoOutcome]:
        return self.submit(refs).result()

    def submit(self, refs: Sequence[str | None]) -> Future[list[PhotoOutcome]]:
        """A future of ``load(refs)``; each photo is its own task, so a batch spreads over all threads."""
        refs = list(refs)
        outcomes: list[PhotoOutcome] = [None] * len(refs)
        batch: Future[list[PhotoOutcome]] = Future()
        pending = [index for index, ref in enumerate(refs) if ref is not None]
        if not pending:
            batch.set_result(outcomes)
            return batch
        remaining = len(pending)
        lock = threading.Lock()

        def collect(index: int, task: Future[PhotoOutcome]) -> None:
            nonlocal remaining
            outcomes[index] = _outcome_of(refs[index], task)
            with lock:
                remaining -= 1
                done = remaining == 0
            if done:
                batch.set_result(outcomes)

        for index in pending:
            task = self._pool.submit(self._load_one, refs[index])
            task.add_done_callback(lambda finished, index=index: collect(index, finished))
        return batch

    def _load_one(self, ref: str | None) -> PhotoOutcome:
        assert ref is not None
        try:
            return LoadedPhoto(ref, decode_photo(self.fetcher.fetch(ref), self.limits))
        except PhotoError as error:
            return PhotoFailure(ref, error.reason, error.message)
        except Exception as error:  # a bug or an unforeseen library error: this photo fails, the batch goes on
            detail = scrub(_first_line(error))
            return PhotoFailure(ref, "error", f"{describe_ref(ref)}: {type(error).__name__}: {detail}")

    def close(self) -> None:
        """Stop: photos not yet started are abandoned (their batches complete with "cancelled" failures)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PhotoLoader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _outcome_of(ref: str | None, task: Future[PhotoOutcome]) -> PhotoOutcome:
    assert ref is not None
    try:
        return task.result()
    except CancelledError:
        return PhotoFailure(ref, "cancelled", f"{describe_ref(ref)}: the loader stopped before this photo")
    except BaseException as error:  # _load_one catches Exception; this is only ever an interrupt-like error
        return PhotoFailure(ref, "error", f"{describe_ref(ref)}: {type(error).__name__}")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""
