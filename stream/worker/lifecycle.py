"""Updates and deletes: the retractions they cause, and the order in which they reach Kafka and Milvus.

A delete, per batch: find what each deleted listing's own event reported and the later listings whose
events named it; deliver the retractions (flush, checked); rewrite those listings without it; delete it
from Milvus and Redis. The caller commits after. A crash anywhere in between reprocesses the batch and
recomputes the same retractions from what is still stored (the same ids: see
:func:`stream.events.retraction_event_id`); what was already rewritten or deleted was delivered first.

An update (or a listing-created for a listing already stored) is checked again like a new listing; the
matches its previous event reported that the new check no longer confirms are retracted, and its row's
reported matches are rewritten only once its events are delivered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from infra.milvus.lifecycle import StoredState, reported_matches, without_matches
from infra.milvus.records import ListingRecord
from stream.events import DuplicateFound, DuplicateRetracted, SourcePosition, retraction_event_id, utc_now_iso

if TYPE_CHECKING:
    from infra.cache import EmbeddingCache
    from infra.milvus.store import ListingStore

# Sends events and flushes, raising when any is not delivered (the processor's producer).
Deliver = Callable[[Sequence[DuplicateFound | DuplicateRetracted]], None]


@dataclass(frozen=True)
class Deletion:
    """A valid listing-deleted event of a batch."""

    listing_id: str
    source: SourcePosition


def retraction(
    retracts_event_id: str, listing_id: str, matches: Sequence[str], reason: str, source: SourcePosition
) -> DuplicateRetracted:
    return DuplicateRetracted(
        event_id=retraction_event_id(retracts_event_id, listing_id, list(matches), reason),
        retracts_event_id=retracts_event_id,
        listing_id=listing_id,
        retracted_matches=list(matches),
        reason=reason,  # type: ignore[arg-type]  # "updated" or "deleted", checked by the model
        detected_at=utc_now_iso(),
        source=source,
    )


def update_retractions(
    checked: Sequence[tuple[str, SourcePosition]],
    states: Mapping[str, StoredState],
    events: Sequence[DuplicateFound],
) -> list[DuplicateRetracted]:
    """For each (listing id, source) checked again: the matches its previous event reported that its new
    check does not confirm."""
    confirmed = {event.listing_id: {match.listing_id for match in event.matches} for event in events}
    retractions = []
    for listing_id, source in checked:
        state = states.get(listing_id)
        if state is None or not state.reported_event:
            continue
        gone = [match for match in state.reported_matches if match not in confirmed.get(listing_id, set())]
        if gone:
            retractions.append(retraction(state.reported_event, listing_id, gone, "updated", source))
    return retractions


def settled_records(
    records: Sequence[ListingRecord],
    events: Sequence[DuplicateFound],
    groups: Mapping[str, str] | None,
    *,
    reported: bool = True,
) -> list[ListingRecord]:
    """The records to rewrite once their events are delivered: what each reported (where the collection
    keeps it), and the match group each joined (``groups``: listing id -> group of candidates, None without
    match groups)."""
    by_listing = {event.listing_id: event for event in events}
    settled = []
    for record in records:
        event = by_listing.get(record.listing_id)
        matches = tuple(match.listing_id for match in event.matches) if event else ()
        changes: dict[str, object] = {}
        now = (matches, event.event_id if event else "")
        if reported and now != (record.reported_matches, record.reported_event):
            changes.update(reported_matches=now[0], reported_event=now[1])
        if event is not None and groups is not None:  # matches are sorted best first: join the best one's group
            best = event.matches[0].listing_id
            changes["match_group"] = groups.get(best, best)
        if changes:
            settled.append(dataclasses.replace(record, **changes))  # type: ignore[arg-type]
    return settled


def deletion_retractions(
    deletions: Sequence[Deletion], states: Mapping[str, StoredState], naming: Sequence[Mapping[str, object]]
) -> list[DuplicateRetracted]:
    """Each deleted listing's own event, whole, and each later listing's event, for the deleted ids it named."""
    source_of = {deletion.listing_id: deletion.source for deletion in deletions}
    retractions = []
    for deletion in deletions:
        listing_id, state = deletion.listing_id, states.get(deletion.listing_id)
        if state is not None and state.reported_event and state.reported_matches:
            retractions.append(retraction(state.reported_event, listing_id, state.reported_matches, "deleted",
                                          deletion.source))
    for row in naming:
        gone = [match for match in reported_matches(row) if match in source_of]
        if gone and row.get("reported_event"):
            event_id, listing_id = str(row["reported_event"]), str(row["listing_id"])
            retractions.append(retraction(event_id, listing_id, gone, "deleted", source_of[gone[0]]))
    return retractions


def apply_deletions(
    store: ListingStore, cache: EmbeddingCache | None, deletions: Sequence[Deletion], deliver: Deliver | None
) -> list[DuplicateRetracted]:
    """Retracts (delivered first), then forgets the deleted listings; returns the retractions."""
    if not deletions:
        return []
    ids = [deletion.listing_id for deletion in deletions]
    states = store.stored_states(ids)
    deleted = set(ids)
    # A listing deleted in this batch too is retracted whole by its own deletion.
    naming = [row for row in store.rows_naming(ids) if str(row["listing_id"]) not in deleted]
    retractions = deletion_retractions(deletions, states, naming)
    if retractions and deliver is not None:
        deliver(retractions)
    store.rewrite_rows([without_matches(row, deleted) for row in naming])
    store.delete([listing_id for listing_id in ids if listing_id in states])
    if cache is not None:
        cache.forget_listings(ids)
    return retractions
