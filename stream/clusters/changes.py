"""From the clusters before and after one duplicate event to the cluster-updated events that say so.

Computed from the two views alone, not from the steps taken, so the events depend on what changed and
not on the order the links were applied in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from stream.clusters.events import Action, Cause, ClusterUpdated, ReviewLink, cluster_event_id

View = Mapping[str, Sequence[str]]  # cluster id -> members, earliest first


def describe(before: View, after: View, review: Sequence[ReviewLink], cause: Cause) -> list[ClusterUpdated]:
    """One event per cluster that changed, ended or got a link routed to review; sorted by cluster id."""
    home = {member: cluster_id for cluster_id, members in after.items() for member in members}
    reviews: dict[str, list[ReviewLink]] = {}
    for link in review:
        target = home.get(link.listing_id) or home.get(link.match_id)
        if target is not None:
            reviews.setdefault(target, []).append(link)
    events = [
        event
        for cluster_id, members in after.items()
        if (event := _continuing(cluster_id, list(members), before, after, reviews.get(cluster_id, []), cause))
    ]
    events += [_ended(cluster_id, home.get(cluster_id), cause) for cluster_id in before if cluster_id not in after]
    return sorted(events, key=lambda event: (event.cluster_id, event.action))


def _continuing(
    cluster_id: str, members: list[str], before: View, after: View, review: list[ReviewLink], cause: Cause
) -> ClusterUpdated | None:
    now, old = set(members), before.get(cluster_id)
    home = {member: other for other, listed in after.items() for member in listed}
    sources = [other for other, was in before.items() if other != cluster_id and now & set(was)]
    # An ended cluster merged into the one that holds its id's listing; any other source was split.
    merged_from = sorted(other for other in sources if other not in after and home.get(other) == cluster_id)
    split_from = next((o for o in sources if o not in merged_from), None) if old is None else None
    action: Action
    if old is None:
        action = "merged" if merged_from else "created"
    elif merged_from:
        action = "merged"
    elif now == set(old):
        if not review:
            return None
        action = "review"
    elif now > set(old):
        action = "grown"
    elif now < set(old):
        parted = any(set(old) & set(other) for other_id, other in after.items() if other_id != cluster_id)
        action = "split" if parted else "shrunk"
    else:
        action = "changed"
    return _event(cluster_id, action, members, cause, merged_from=merged_from, split_from=split_from, review=review)


def _ended(cluster_id: str, merged_into: str | None, cause: Cause) -> ClusterUpdated:
    return _event(cluster_id, "absorbed" if merged_into else "dissolved", [], cause, merged_into=merged_into)


def _event(
    cluster_id: str,
    action: Action,
    members: list[str],
    cause: Cause,
    *,
    merged_from: list[str] | None = None,
    merged_into: str | None = None,
    split_from: str | None = None,
    review: list[ReviewLink] | None = None,
) -> ClusterUpdated:
    return ClusterUpdated(
        event_id=cluster_event_id(cluster_id, cause.event_id, action, members, merged_into),
        cluster_id=cluster_id,
        action=action,
        members=members,
        size=len(members),
        merged_from=merged_from or [],
        merged_into=merged_into,
        split_from=split_from,
        review=review or [],
        cause=cause.ref(),
        detected_at=cause.detected_at,
        source=cause.source,
    )
