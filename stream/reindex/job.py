"""The reindex: which collections, fill the new one while the old one serves, switch the alias, catch up.

1. The configured name (``DEDUP_MILVUS_COLLECTION``) resolves to the serving collection, built with
   the old model; the new one is ``<name>__<digest of the new model's version>``, created if absent
   (an interrupted reindex left it: upserts are idempotent, so it is simply filled again).
2. A full pass fills it (from the stored listings or the topic) while workers keep serving and writing
   the old one; a catch-up pass takes what they stored meanwhile; from the stored listings, those
   deleted from the old collection meanwhile are deleted from the new one.
3. The alias moves in one call (``alter_alias``): every search runs on one collection or the other.
4. A last catch-up takes what old workers stored during step 2's catch-up. Workers with the old model
   keep writing the old collection until they are restarted with the new one (README, rollout).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal, Protocol

from decider.bundle import ModelBundle
from infra.milvus.aliases import physical_name, resolve, switch
from infra.milvus.copying import listing_ids, milvus_errors, stored_model_version
from infra.milvus.store import DEFAULT_REQUEST_TIMEOUT_S, ListingStore
from stream.reindex.errors import ReindexError
from stream.reindex.stored import Interrupted, StoredCopy, image_version, images_kept
from stream.settings import Settings

log = logging.getLogger(__name__)
Source = Literal["stored", "topic"]


class Copy(Protocol):
    def first_pass(self) -> int: ...

    def catch_up(self) -> int: ...


@dataclass(frozen=True)
class ReindexPlan:
    alias: str
    old_collection: str
    old_version: str
    new_collection: str
    new_version: str


@dataclass(frozen=True)
class ReindexSummary:
    """What ``dedup reindex`` prints, as one JSON object."""

    source: str
    alias: str
    old_collection: str
    new_collection: str
    listings: int  # in the new collection at the end
    copied: int  # by the full pass
    caught_up: int  # by the catch-up passes, before and after the switch
    re_encoded: int  # texts the new model encoded
    removed: int  # deleted from the old collection during the copy, so from the new one too
    images: str
    seconds: float
    listings_per_s: float
    old_dropped: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def plan_reindex(store: ListingStore, new_version: str) -> ReindexPlan:
    """The serving collection behind ``store.name`` and the new model's collection (``store`` unopened)."""
    with milvus_errors(store, "resolve"):
        old = resolve(store.milvus_client(), store.name, DEFAULT_REQUEST_TIMEOUT_S)
    if old is None:
        raise ReindexError(f"nothing to reindex: no collection or alias {store.name!r} at {store.shown_uri}")
    old_version = stored_model_version(store, old)
    if not old_version:
        raise ReindexError(f"collection {old!r} records no model version: it was not created by listing-dedup")
    if old_version == new_version:
        raise ReindexError(f"collection {old!r} (behind {store.name!r}) already holds model {new_version}")
    return ReindexPlan(store.name, old, old_version, physical_name(store.name, new_version), new_version)


def run_reindex(
    settings: Settings,
    model: ModelBundle,
    *,
    source: Source = "stored",
    drop_old: bool = False,
    stop: threading.Event | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> ReindexSummary:
    """Fills the new model's collection, switches the alias to it, and says what it did."""
    started = time.monotonic()
    stop = stop or threading.Event()
    dim = model.reducer.dim
    probe = _store(settings, settings.milvus.collection, model.embedding_version, dim)
    try:
        plan = plan_reindex(probe, model.embedding_version)
    finally:
        probe.close()
    old = _store(settings, plan.old_collection, plan.old_version, dim)
    new = _store(settings, plan.new_collection, plan.new_version, dim)
    try:
        old.ensure_collection()
        new.ensure_collection()
        log.info("reindex: %r -> %r (from %s)", plan.old_collection, plan.new_collection, source)
        copy = _copier(source, settings, old, new, model, stop, on_progress)
        try:
            summary = _fill_and_switch(plan, copy, old, new, source, drop_old, stop, on_stage or (lambda _s: None))
        finally:
            close = getattr(copy, "close", None)
            if close is not None:
                close()
    finally:
        old.close()
        new.close()
    seconds = round(time.monotonic() - started, 3)
    return _with_time(summary, seconds)


def _fill_and_switch(
    plan: ReindexPlan,
    copy: Copy,
    old: ListingStore,
    new: ListingStore,
    source: Source,
    drop_old: bool,
    stop: threading.Event,
    on_stage: Callable[[str], None],
) -> ReindexSummary:
    try:
        on_stage("copy")
        copied = copy.first_pass()
        _check(stop, plan)
        on_stage("catch-up")
        caught_up = copy.catch_up()
        removed = _remove_deleted(old, new) if source == "stored" else 0
        _check(stop, plan)
    except Interrupted:
        raise _interrupted(plan) from None
    on_stage("switch")
    with milvus_errors(old, "alias switch", plan.alias):
        previous = switch(
            old.milvus_client(), plan.alias, plan.new_collection, DEFAULT_REQUEST_TIMEOUT_S,
            plain_renamed_to=physical_name(plan.alias, plan.old_version),
        )
    if previous and previous != old.collection:  # a plain collection, renamed to make way for the alias
        old.follow(previous)
    on_stage("switched")
    stop.clear()  # switched: a signal now must not cut the last catch-up short (a second one still aborts)
    caught_up += copy.catch_up()
    if drop_old:
        old.drop()
    return ReindexSummary(
        source=source,
        alias=plan.alias,
        old_collection=old.collection,
        new_collection=plan.new_collection,
        listings=new.count(),
        copied=copied,
        caught_up=caught_up,
        re_encoded=copied + caught_up,
        removed=removed,
        images=_images(plan, source),
        seconds=0.0,
        listings_per_s=0.0,
        old_dropped=drop_old,
    )


def _copier(
    source: Source,
    settings: Settings,
    old: ListingStore,
    new: ListingStore,
    model: ModelBundle,
    stop: threading.Event,
    on_progress: Callable[[int], None] | None,
) -> Copy:
    if source == "stored":
        return StoredCopy(old, new, model, stop=stop, on_progress=on_progress)
    from stream.reindex.topic import TopicCopy  # Kafka and the worker's pipeline: only from the topic

    return TopicCopy(settings, old, new, model, stop=stop, on_progress=on_progress)


def _remove_deleted(old: ListingStore, new: ListingStore) -> int:
    """Listings deleted from the old collection while the copy ran (only the copy writes the new one)."""
    gone = sorted(listing_ids(new) - listing_ids(old))
    new.delete(gone)
    return len(gone)


def _images(plan: ReindexPlan, source: Source) -> str:
    if source == "topic":
        return "re-read from the topic"
    if images_kept(plan.old_version, plan.new_version):
        return "kept"
    if not image_version(plan.new_version):
        return "dropped: the new model embeds no photos"
    return "dropped: the image encoder changed, so photo vectors need the photos (`dedup reindex --from topic`)"


def _check(stop: threading.Event, plan: ReindexPlan) -> None:
    if stop.is_set():
        raise _interrupted(plan)


def _interrupted(plan: ReindexPlan) -> ReindexError:
    return ReindexError(
        f"stopped before the switch: {plan.alias!r} still points at {plan.old_collection!r};"
        f" run it again to refill {plan.new_collection!r}"
    )


def _with_time(summary: ReindexSummary, seconds: float) -> ReindexSummary:
    rate = round(summary.re_encoded / seconds, 1) if seconds > 0 else 0.0
    return dataclasses.replace(summary, seconds=seconds, listings_per_s=rate)


def _store(settings: Settings, collection: str, model_version: str, dim: int) -> ListingStore:
    """A store on exactly ``collection`` (no alias of its own): the reindex moves the configured alias."""
    milvus = settings.milvus
    return ListingStore(
        milvus.uri,
        collection,
        model_version=model_version,
        dim=dim,
        token=milvus.token.get_secret_value() if milvus.token else None,
        index_type=milvus.index_type,
        ivf=milvus.ivf_tuning(),
        lexical=milvus.lexical_candidates > 0,
        aliased=False,
    )
