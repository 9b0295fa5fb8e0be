"""The records the cluster logic keeps, and a unit of work over the mapping that stores them.

Per listing: its order key, its cluster, the duplicate-found event of it that stands, and its links (those
its event asserts, ``out``, and those asserted about it, ``inc``; ``held``: its event's links the guard
routed to review). Per cluster: its members and its recorded merges. A listing with no link left is
dropped, and so is a cluster of one, so what is kept is bounded by the linked listings, each holding at most
``max_size`` links plus its own event's matches. Records are plain JSON-able dicts (a faust table's values).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

OrderKey = tuple[int, int, str]  # (ms of the earliest event naming it, 0 as a match / 1 as the subject, id)
LISTING_PREFIX = "l/"
CLUSTER_PREFIX = "c/"


@dataclass
class ListingRecord:
    listing_id: str
    order: OrderKey
    cluster: str | None = None
    event: str | None = None
    out: dict[str, float] = field(default_factory=dict)
    inc: dict[str, float] = field(default_factory=dict)
    held: dict[str, float] = field(default_factory=dict)

    def neighbours(self) -> set[str]:
        return set(self.out) | set(self.inc)

    def is_empty(self) -> bool:
        return not (self.out or self.inc or self.held)

    def to_dict(self) -> dict[str, Any]:
        return {
            "order": list(self.order),
            "cluster": self.cluster,
            "event": self.event,
            "out": self.out,
            "in": self.inc,
            "held": self.held,
        }

    @classmethod
    def from_dict(cls, listing_id: str, data: dict[str, Any]) -> ListingRecord:
        ms, role, key_id = data["order"]
        return cls(
            listing_id,
            (int(ms), int(role), str(key_id)),
            data.get("cluster"),
            data.get("event"),
            dict(data.get("out", {})),
            dict(data.get("in", {})),
            dict(data.get("held", {})),
        )


@dataclass
class ClusterRecord:
    cluster_id: str
    members: list[str]
    merges: list[dict[str, Any]] = field(default_factory=list)  # the latest ``history`` merges, oldest first
    last: dict[str, Any] | None = None  # the last cluster-updated event sent for it (re-sent after a crash)

    def to_dict(self) -> dict[str, Any]:
        return {"members": self.members, "merges": self.merges, "last": self.last}

    @classmethod
    def from_dict(cls, cluster_id: str, data: dict[str, Any]) -> ClusterRecord:
        return cls(cluster_id, list(data["members"]), list(data.get("merges", [])), data.get("last"))


class Session:
    """Reads records once, and writes each changed one once, at ``commit`` (one changelog record per key)."""

    def __init__(self, store: MutableMapping[str, Any]) -> None:
        self.store = store
        self._listings: dict[str, ListingRecord | None] = {}
        self._clusters: dict[str, ClusterRecord | None] = {}

    def listing(self, listing_id: str) -> ListingRecord | None:
        if listing_id not in self._listings:
            data = self.store.get(LISTING_PREFIX + listing_id)
            self._listings[listing_id] = None if data is None else ListingRecord.from_dict(listing_id, data)
        return self._listings[listing_id]

    def put_listing(self, record: ListingRecord) -> None:
        self._listings[record.listing_id] = record

    def cluster(self, cluster_id: str) -> ClusterRecord | None:
        if cluster_id not in self._clusters:
            data = self.store.get(CLUSTER_PREFIX + cluster_id)
            self._clusters[cluster_id] = None if data is None else ClusterRecord.from_dict(cluster_id, data)
        return self._clusters[cluster_id]

    def put_cluster(self, record: ClusterRecord) -> None:
        self._clusters[record.cluster_id] = record

    def drop_cluster(self, cluster_id: str) -> None:
        self.cluster(cluster_id)  # remember it existed, so commit deletes it
        self._clusters[cluster_id] = None

    def members(self, listing_id: str) -> list[str]:
        """The listing's cluster, or the listing alone."""
        record = self.listing(listing_id)
        cluster = self.cluster(record.cluster) if record is not None and record.cluster else None
        return list(cluster.members) if cluster is not None else [listing_id]

    def commit(self) -> None:
        for listing_id, record in self._listings.items():
            self._write(LISTING_PREFIX + listing_id, None if record is None or record.is_empty() else record)
        for cluster_id, cluster in self._clusters.items():
            self._write(CLUSTER_PREFIX + cluster_id, cluster)

    def _write(self, key: str, record: ListingRecord | ClusterRecord | None) -> None:
        if record is None:
            if key in self.store:
                del self.store[key]
            return
        value = record.to_dict()
        if self.store.get(key) != value:
            self.store[key] = value
