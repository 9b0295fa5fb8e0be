"""The cluster-updated event, its deterministic id, and the duplicate events it is computed from.

The pydantic model is the source of truth of ``stream/schemas/cluster-updated.schema.json``
(``python -m stream.clusters.events`` writes it; a test keeps the two in sync).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stream.events import DuplicateFound, DuplicateRetracted, InvalidEvent, SourcePosition

SCHEMA_FILE = "cluster-updated.schema.json"
CLUSTER_EVENT_TYPE = "cluster-updated"
Action = Literal["created", "grown", "merged", "split", "shrunk", "changed", "absorbed", "dissolved", "review"]


class ReviewLink(BaseModel):
    listing_id: str = Field(description="the listing whose duplicate-found event named the match")
    match_id: str
    score: float
    reason: str = Field(description="why the guard did not merge, e.g. 'a cluster of 12 needs a score of 0.9333…'")


class ClusterCause(BaseModel):
    event_type: Literal["duplicate-found", "duplicate-retracted"]
    event_id: str
    listing_id: str


class ClusterUpdated(BaseModel):
    """A cluster's members after one duplicate event; keyed by ``cluster_id`` (the earliest listing's id)."""

    model_config = ConfigDict(title="cluster-updated")

    event_type: Literal["cluster-updated"] = "cluster-updated"
    event_id: str = Field(description="sha256 of cluster_id, the cause's event id, action, members and merged_into")
    cluster_id: str = Field(description="the id of its earliest listing; kept when clusters merge (and the Kafka key)")
    action: Action = Field(
        description="created, grown, merged (merged_from ended in it), split (part of it left: see the split_from"
        " of the clusters created), shrunk (a listing left), changed (listings left and joined), review (unchanged;"
        " a merge was routed to review), absorbed (it ended: merged_into), dissolved (it ended: its earliest"
        " listing is in no cluster now)"
    )
    members: list[str] = Field(description="earliest first; empty when the cluster ended")
    size: int = Field(ge=0)
    merged_from: list[str] = Field(default_factory=list, description="clusters that ended in this one")
    merged_into: str | None = Field(default=None, description="absorbed: the cluster that took its members")
    split_from: str | None = Field(default=None, description="created by a split: the cluster it came from")
    review: list[ReviewLink] = Field(default_factory=list, description="links the guard routed to review")
    cause: ClusterCause
    detected_at: str = Field(description="the cause's detected_at (a replay gives the same)")
    source: SourcePosition = Field(description="the cause's position in the duplicates topic")


@dataclass(frozen=True)
class Cause:
    """One duplicate event, as the cluster logic needs it."""

    event_type: Literal["duplicate-found", "duplicate-retracted"]
    event_id: str
    listing_id: str
    detected_at: str
    at_ms: int
    source: SourcePosition

    def ref(self) -> ClusterCause:
        return ClusterCause(event_type=self.event_type, event_id=self.event_id, listing_id=self.listing_id)


def cluster_event_id(cluster_id: str, cause_id: str, action: str, members: list[str], merged_into: str | None) -> str:
    """Deterministic: the same cause on the same state gives the same id (a replay, a re-send)."""
    parts = [CLUSTER_EVENT_TYPE, cluster_id, cause_id, action, "\x1e".join(members), merged_into or ""]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def detected_ms(detected_at: str) -> int:
    """Milliseconds since the epoch of an ISO 8601 time (naive means UTC); InvalidEvent otherwise."""
    try:
        moment = datetime.fromisoformat(detected_at)
    except ValueError:
        raise InvalidEvent(f"detected_at: {detected_at[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_duplicate_event(value: bytes | None) -> DuplicateFound | DuplicateRetracted:
    """A value of the duplicates topic, told apart by ``event_type``; InvalidEvent with a reason otherwise."""
    if value is None:
        raise InvalidEvent("empty message value (tombstone)")
    try:
        payload = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"not valid JSON: {exc}") from None
    kind = payload.get("event_type") if isinstance(payload, dict) else None
    model = {"duplicate-found": DuplicateFound, "duplicate-retracted": DuplicateRetracted}.get(str(kind))
    if model is None:
        raise InvalidEvent(f"event_type: {str(kind)[:40]!r} is neither duplicate-found nor duplicate-retracted")
    try:
        event = model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidEvent(f"{'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    detected_ms(event.detected_at)  # checked now: the order keys are built from it
    return event


def cause_of(event: DuplicateFound | DuplicateRetracted, source: SourcePosition) -> Cause:
    at_ms = detected_ms(event.detected_at)
    return Cause(event.event_type, event.event_id, event.listing_id, event.detected_at, at_ms, source)


def json_schema() -> dict[str, Any]:
    return ClusterUpdated.model_json_schema()
