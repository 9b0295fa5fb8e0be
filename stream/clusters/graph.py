"""The merge logic: duplicate links in, clusters (the connected components of the kept links) out.

A cluster's id is its earliest listing's id, "earliest" by the order key of stream.clusters.state: the
least detected_at of the duplicate events naming the listing (as a match, at most its subject's: a match
was stored before it), a match before its event's subject, then the id. The least keys satisfying every
event do not depend on the order the events came in (when the guard refuses nothing and each listing has
one event), so neither do the ids; a merge keeps the earlier cluster's id. Links are kept per listing so
that a retraction that removes a cluster's bridge splits it; the guard (stream.clusters.guard) decides
which merges happen at all.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from stream.clusters.changes import View, describe
from stream.clusters.events import Cause, ClusterUpdated, ReviewLink
from stream.clusters.guard import Guard
from stream.clusters.state import ClusterRecord, ListingRecord, OrderKey, Session

DEFAULT_HISTORY = 20
SUBJECT, MATCH = 1, 0


class ClusterGraph:
    """Applies duplicate events to the records in ``store`` and says which clusters changed."""

    def __init__(self, store: MutableMapping[str, Any], guard: Guard | None = None, history: int = DEFAULT_HISTORY):
        self.store = store
        self.guard = guard or Guard()
        self.history = history

    def found(self, cause: Cause, matches: Iterable[tuple[str, float]]) -> list[ClusterUpdated]:
        """``cause.listing_id``'s latest duplicate-found event: its links become ``matches`` (best first)."""
        session = Session(self.store)
        wanted = _unique((match_id, score) for match_id, score in matches if match_id != cause.listing_id)
        subject = session.listing(cause.listing_id)
        if subject is not None and subject.event == cause.event_id:  # already applied (a crash before the commit)
            return self._resent(session, cause, [cause.listing_id, *wanted])
        involved = [cause.listing_id, *wanted]
        before = self._view(session, involved)
        subject = self._touch(session, cause.listing_id, (cause.at_ms, SUBJECT, cause.listing_id))
        for match_id in wanted:  # a match was stored before its subject: never later than the subject's key
            self._touch(session, match_id, (min(cause.at_ms, subject.order[0]), MATCH, match_id))
        for stale in [m for m in (*subject.out, *subject.held) if m not in wanted]:  # an earlier event's links
            self._unlink(session, subject, stale)
        subject.event, subject.held = cause.event_id, {}
        review = [link for match_id, score in wanted.items() if (link := self._link(session, cause, match_id, score))]
        self._lower(session, subject, subject.order)
        return self._finish(session, cause, before, involved, review)

    def retracted(self, cause: Cause, retracts_event_id: str, matches: Iterable[str]) -> list[ClusterUpdated]:
        """Withdraws ``matches`` of the listing's event ``retracts_event_id``; a stale event's retraction is moot."""
        session = Session(self.store)
        subject = session.listing(cause.listing_id)
        named = list(dict.fromkeys(matches))
        if subject is None or subject.event != retracts_event_id:
            return self._resent(session, cause, [cause.listing_id, *named])
        gone = [m for m in named if m in subject.out or m in subject.held]
        if not gone:
            return self._resent(session, cause, [cause.listing_id, *named])
        involved = [cause.listing_id, *gone]
        before = self._view(session, involved)
        for match_id in gone:
            self._unlink(session, subject, match_id)
        return self._finish(session, cause, before, involved, [])

    # --- links --------------------------------------------------------------------------------------

    def _touch(self, session: Session, listing_id: str, order: OrderKey) -> ListingRecord:
        record = session.listing(listing_id)
        if record is None:
            record = ListingRecord(listing_id, order)
            session.put_listing(record)
        else:
            self._lower(session, record, order)
        return record

    def _lower(self, session: Session, record: ListingRecord, order: OrderKey) -> None:
        """Lowers the listing's key to ``order`` and its matches' keys below it, along the kept links: the
        least keys that satisfy every event, whatever order the events came in. Clusters' ids are checked
        again in _finish."""
        stack = [(record, order)]
        while stack:
            current, key = stack.pop()
            if key < current.order:
                current.order = key
            for match_id in current.out:
                match = session.listing(match_id)
                below = (current.order[0], MATCH, match_id)
                if match is not None and below < match.order:
                    stack.append((match, below))

    def _link(self, session: Session, cause: Cause, match_id: str, score: float) -> ReviewLink | None:
        """Keeps the link (merging two clusters) or, when the guard refuses the merge, holds it for review."""
        subject, match = session.listing(cause.listing_id), session.listing(match_id)
        assert subject is not None and match is not None  # both touched first
        joined = subject.cluster is not None and subject.cluster == match.cluster
        if not joined and match_id not in subject.neighbours():
            verdict = self.guard.judge(len(session.members(subject.listing_id)) + len(session.members(match_id)), score)
            if not verdict.accepted:
                subject.held[match_id] = score
                return ReviewLink(listing_id=subject.listing_id, match_id=match_id, score=score, reason=verdict.reason)
        subject.out[match_id] = score
        match.inc[subject.listing_id] = score
        if not joined:
            self._union(session, subject, match, cause)
        return None

    def _unlink(self, session: Session, subject: ListingRecord, match_id: str) -> None:
        subject.out.pop(match_id, None)
        subject.held.pop(match_id, None)
        match = session.listing(match_id)
        if match is None:
            return
        match.inc.pop(subject.listing_id, None)
        if match_id in subject.neighbours() or subject.cluster is None or subject.cluster != match.cluster:
            return  # still linked the other way, or never clustered together (a held link)
        self._regroup(session, subject.cluster)

    # --- clusters -----------------------------------------------------------------------------------

    def _union(self, session: Session, one: ListingRecord, other: ListingRecord, cause: Cause) -> None:
        records = [session.cluster(c) for c in {one.cluster, other.cluster} if c is not None]
        clusters = [r for r in records if r is not None]
        members = _unique_ids([*session.members(one.listing_id), *session.members(other.listing_id)])
        merges = [merge for cluster in clusters for merge in cluster.merges]
        if len(clusters) == 2:  # two clusters, not a listing joining one: a merge worth recording
            merges.append({"clusters": sorted(c.cluster_id for c in clusters), "cause": cause.event_id,
                           "at": cause.detected_at})  # fmt: skip
        self._place(session, members, sorted(merges, key=lambda m: (m["at"], m["cause"]))[-self.history :])

    def _regroup(self, session: Session, cluster_id: str) -> None:
        """Splits the cluster into the components its links still make (after a link left it)."""
        cluster = session.cluster(cluster_id)
        if cluster is None:
            return
        session.drop_cluster(cluster_id)
        for member in cluster.members:
            if (record := session.listing(member)) is not None:
                record.cluster = None
        for component in _components(session, cluster.members):
            if len(component) > 1:
                self._place(session, component, cluster.merges if cluster_id in component else [])

    def _place(self, session: Session, members: list[str], merges: list[dict[str, Any]]) -> None:
        """Writes ``members`` as one cluster named after the earliest of them, dropping the clusters they leave."""
        records = {m: session.listing(m) for m in members}
        ordered = sorted(members, key=lambda m: _order(records[m], m))
        cluster_id = ordered[0]
        for record in records.values():
            if record is not None:
                if record.cluster is not None and record.cluster != cluster_id:
                    session.drop_cluster(record.cluster)
                record.cluster = cluster_id
        session.put_cluster(ClusterRecord(cluster_id, ordered, merges))

    def _fix_ids(self, session: Session, listing_ids: Iterable[str]) -> None:
        """Members whose keys fell (an earlier event seen later) are reordered; below the first, they rename it."""
        for cluster_id in {r.cluster for m in listing_ids if (r := session.listing(m)) and r.cluster}:
            cluster = session.cluster(cluster_id)
            if cluster is not None:
                ordered = sorted(cluster.members, key=lambda m: _order(session.listing(m), m))
                if ordered != cluster.members:  # keep members earliest first, the first naming the cluster
                    self._place(session, ordered, cluster.merges)

    # --- results ------------------------------------------------------------------------------------

    def _view(self, session: Session, listing_ids: Iterable[str]) -> dict[str, list[str]]:
        view: dict[str, list[str]] = {}
        for listing_id in listing_ids:
            record = session.listing(listing_id)
            cluster = session.cluster(record.cluster) if record is not None and record.cluster else None
            if cluster is not None:
                view[cluster.cluster_id] = list(cluster.members)
        return view

    def _finish(
        self, session: Session, cause: Cause, before: View, involved: list[str], review: list[ReviewLink]
    ) -> list[ClusterUpdated]:
        reach = [*involved, *(m for members in before.values() for m in members)]
        self._fix_ids(session, reach)
        events = describe(before, self._view(session, reach), review, cause)
        for event in events:
            cluster = session.cluster(event.cluster_id)
            if cluster is not None:
                cluster.last = event.model_dump(mode="json")
        session.commit()
        return events

    def _resent(self, session: Session, cause: Cause, listing_ids: list[str]) -> list[ClusterUpdated]:
        """A cause applied before (reprocessed after a crash): the events it gave, sent again, same ids."""
        records = [session.cluster(cluster_id) for cluster_id in sorted(self._view(session, listing_ids))]
        return [
            ClusterUpdated.model_validate(record.last)
            for record in records
            if record is not None and record.last and record.last["cause"]["event_id"] == cause.event_id
        ]


def _components(session: Session, members: list[str]) -> list[list[str]]:
    """The connected components of the members' links, each in the members' order."""
    inside, seen, found = set(members), set(), []
    for start in members:
        if start in seen:
            continue
        seen.add(start)
        stack, component = [start], {start}
        while stack:
            record = session.listing(stack.pop())
            for neighbour in (record.neighbours() if record is not None else ()):
                if neighbour in inside and neighbour not in seen:
                    seen.add(neighbour)
                    component.add(neighbour)
                    stack.append(neighbour)
        found.append([m for m in members if m in component])
    return found


def _order(record: ListingRecord | None, listing_id: str) -> OrderKey:
    return record.order if record is not None else (2**62, SUBJECT, listing_id)


def _unique(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    """The first score of each match (matches come best first)."""
    kept: dict[str, float] = {}
    for match_id, score in pairs:
        kept.setdefault(match_id, float(score))
    return kept


def _unique_ids(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))
