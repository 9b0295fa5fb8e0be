"""One micro-batch of valid listings -> vectors -> Milvus -> candidates -> decider -> events.

Order matters: the batch is upserted *before* it is searched, so two duplicates that arrive in
the same batch find each other. A listing only ever matches listings stored before it (by the
time each listing was first stored, kept across reprocessing, then listing_id), so a pair is
reported once, by whichever member was processed second, and a replay reports it the same way.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from decider.bundle import ModelBundle
from decider.features.codes import listing_codes
from decider.pairs import CandidatePairs
from encoders.lexical import lexical_document
from encoders.listing import decider_fields, listing_text
from infra.cache import CachedVectors, EmbeddingCache
from infra.milvus.records import ListingRecord, Neighbour
from infra.milvus.schema import MAX_LABEL_LENGTH
from infra.milvus.store import ListingStore
from stream.events import (
    DeciderRef,
    DuplicateFound,
    ListingCreated,
    Match,
    SourcePosition,
    duplicate_event_id,
    utc_now_iso,
)

log = logging.getLogger(__name__)

# Later listings and the listing itself come back from the ANN search too; ask for a few
# more so that ``candidates`` earlier ones usually remain after filtering.
SEARCH_HEADROOM = 5


@dataclass(frozen=True)
class Incoming:
    listing: ListingCreated
    source: SourcePosition
    timestamp_ms: int

    @property
    def created_at_ms(self) -> int:
        created = self.listing.created_at_ms()
        return created if created is not None else self.timestamp_ms

    # Derived once per listing and batch: each is read at several steps and, for attributes,
    # once per candidate pair (the features cache parsed listings by object identity).
    @cached_property
    def content_hash(self) -> str:
        return self.listing.content_hash()

    @cached_property
    def fields(self) -> dict[str, Any]:
        return self.listing.model_dump()

    @cached_property
    def text(self) -> str:
        """What the text encoder and the lexical channel read."""
        return listing_text(self.fields)

    @cached_property
    def attributes(self) -> dict[str, Any]:
        """Stored with the vectors so that candidates carry what the decider compares."""
        return decider_fields(self.fields)

    @cached_property
    def codes(self) -> tuple[str, ...]:
        """Normalised identifiers from the model number and the title."""
        return listing_codes(self.fields)

    @cached_property
    def lexical(self) -> str:
        """What the lexical channel indexes and searches: words, identifiers, photo hash."""
        return lexical_document(self.text, self.codes, self.listing.image_phash)


@dataclass
class PipelineReport:
    """What the pipeline did with one batch: counts, the duplicate-found events, time per stage."""

    listings: int = 0
    encoded: int = 0
    cache_hits: int = 0
    candidates: int = 0
    duplicates: list[DuplicateFound] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + time.perf_counter() - started


class DedupPipeline:
    def __init__(
        self,
        model: ModelBundle,
        store: ListingStore,
        cache: EmbeddingCache | None,
        *,
        candidates: int = 10,
        lexical_candidates: int = 0,
        group_candidates: int = 0,
        on_scored: Callable[[CandidatePairs, np.ndarray], None] | None = None,
    ) -> None:
        self.model = model
        self.store = store
        self.cache = cache
        self.candidates = candidates
        self.lexical_candidates = lexical_candidates
        self.group_candidates = group_candidates
        self.clock_ms = lambda: int(time.time() * 1000)
        # Evaluation hook: sees every candidate pair with its score, so the candidate stage's recall
        # can be measured and each missed pair explained (not a candidate, or scored below threshold).
        self.on_scored = on_scored

    def process(self, batch: Sequence[Incoming]) -> PipelineReport:
        items = latest_per_listing(batch)
        report = PipelineReport(listings=len(items))
        if not items:
            return report
        vectors = self._vectors(items, report)
        with report.timed("upsert"):
            first_seen = self._first_seen(items)
            records = [_record(item, vectors[i], first_seen[i]) for i, item in enumerate(items)]
            self.store.upsert(records)
        with report.timed("cache"):
            if self.cache is not None:
                self.cache.put_listings(
                    {item.listing.listing_id: CachedVectors(vectors[i], None) for i, item in enumerate(items)}
                )
        with report.timed("search"):
            neighbours = self.store.search(vectors, limit=self.candidates + SEARCH_HEADROOM)
        with report.timed("lexical_search"):
            worded_alike = self._lexical_matches(items)
        order_keys = [(seen, item.listing.listing_id) for seen, item in zip(first_seen, items)]
        with report.timed("candidates"):
            chosen = [
                self._earlier_candidates(found, by_text, own)
                for found, by_text, own in zip(neighbours, worded_alike, order_keys)
            ]
            pairs = self._candidate_pairs(items, vectors, chosen)
        with report.timed("decide"):
            scores = self._score(pairs)
        with report.timed("match_groups"):
            pairs, scores, members = self._with_group_members(items, vectors, chosen, order_keys, pairs, scores)
        report.candidates = len(pairs)
        if self.on_scored is not None:
            self.on_scored(pairs, scores)
        with report.timed("decide"):
            report.duplicates = self._events(items, pairs, scores)
        with report.timed("match_groups"):
            self._store_match_groups(records, report.duplicates, [*(n for found in chosen for n in found), *members])
        return report

    def _vectors(self, items: Sequence[Incoming], report: PipelineReport) -> np.ndarray:
        """Reduced text vectors, from the content cache where possible."""
        hashes = [item.content_hash for item in items]
        with report.timed("cache"):
            cached = self.cache.get_by_content(hashes) if self.cache is not None else {}
        missing = [i for i, content_hash in enumerate(hashes) if content_hash not in cached]
        report.cache_hits = len(items) - len(missing)
        report.encoded = len(missing)
        vectors = np.zeros((len(items), self.model.reducer.dim), dtype=np.float32)
        for i, content_hash in enumerate(hashes):
            if content_hash in cached:
                vectors[i] = cached[content_hash].text
        if missing:
            texts = [items[i].text for i in missing]
            with report.timed("encode"):
                vectors[missing] = self.model.embed(texts)
            with report.timed("cache"):
                if self.cache is not None:
                    self.cache.put_by_content({hashes[i]: CachedVectors(vectors[i], None) for i in missing})
        return vectors

    def _first_seen(self, items: Sequence[Incoming]) -> list[int]:
        """When each listing was first stored: kept across reprocessing, now for new listings.

        Matching runs against listings stored *before* this one. Ordering by this processing
        time rather than by created_at loses no pair when partitions are consumed out of
        timestamp order, and a replay sees exactly what the first run saw.
        """
        stored = self.store.first_seen([item.listing.listing_id for item in items])
        now = self.clock_ms()
        return [stored.get(item.listing.listing_id, now) for item in items]

    def _lexical_matches(self, items: Sequence[Incoming]) -> list[list[Neighbour]]:
        """Stored listings sharing the rarest words, identifiers or photo hash (BM25), when the channel is on."""
        if self.lexical_candidates <= 0:
            return [[] for _ in items]
        return self.store.search_text([item.lexical for item in items], limit=self.lexical_candidates + SEARCH_HEADROOM)

    def _earlier_candidates(
        self, found: Sequence[Neighbour], by_text: Sequence[Neighbour], own: tuple[int, str]
    ) -> list[Neighbour]:
        """The nearest earlier neighbours, then the best earlier BM25 matches not among them."""
        by_vector = [n for n in found if _is_earlier(n, own)][: self.candidates]
        chosen = {n.listing_id for n in by_vector}
        lexical = [n for n in by_text if _is_earlier(n, own) and n.listing_id not in chosen][: self.lexical_candidates]
        return by_vector + lexical

    def _with_group_members(
        self,
        items: Sequence[Incoming],
        vectors: np.ndarray,
        chosen: Sequence[Sequence[Neighbour]],
        order_keys: Sequence[tuple[int, str]],
        pairs: CandidatePairs,
        scores: np.ndarray,
    ) -> tuple[CandidatePairs, np.ndarray, list[Neighbour]]:
        """Adds, for each listing that matched, the earlier members of its matches' groups, scored.

        A listing joining a large group then meets the whole group, not only its nearest members.
        """
        if self.group_candidates <= 0 or not self.store.groups or len(pairs) == 0:
            return pairs, scores, []
        group_of = {n.listing_id: n.group for found in chosen for n in found}
        row_of = {item.listing.listing_id: row for row, item in enumerate(items)}
        wanted: dict[int, set[str]] = {}
        for i in np.flatnonzero(scores >= self.model.decider.threshold):
            wanted.setdefault(row_of[pairs.query_ids[i]], set()).add(group_of[pairs.candidate_ids[i]])
        if not wanted:
            return pairs, scores, []
        members = self.store.members_of(sorted(set().union(*wanted.values())))
        by_group: dict[str, list[Neighbour]] = {}
        for member in sorted(members, key=lambda m: (-m.first_seen_ms, m.listing_id)):  # latest first
            by_group.setdefault(member.group, []).append(member)
        extra: list[list[Neighbour]] = [[] for _ in items]
        for row, groups in wanted.items():
            seen = {n.listing_id for n in chosen[row]}
            for member in (m for group in sorted(groups) for m in by_group.get(group, [])):
                if member.listing_id not in seen and _is_earlier(member, order_keys[row]):
                    seen.add(member.listing_id)
                    extra[row].append(member)
            extra[row] = extra[row][: self.group_candidates]
        more = self._candidate_pairs(items, vectors, extra)
        return pairs + more, np.concatenate([scores, self._score(more)]), members

    def _store_match_groups(
        self, records: Sequence[ListingRecord], events: Sequence[DuplicateFound], found: Sequence[Neighbour]
    ) -> None:
        """Each listing that matched joins the group of its best match (rewritten in one upsert)."""
        if self.group_candidates <= 0 or not self.store.groups or not events:
            return
        group_of = {n.listing_id: n.group for n in found}
        best = {event.listing_id: event.matches[0].listing_id for event in events}  # matches are sorted best first
        joined = {listing_id: group_of.get(match, match) for listing_id, match in best.items()}
        self.store.upsert(
            [dataclasses.replace(r, match_group=joined[r.listing_id]) for r in records if r.listing_id in joined]
        )

    def _candidate_pairs(
        self, items: Sequence[Incoming], vectors: np.ndarray, candidates: Sequence[Sequence[Neighbour]]
    ) -> CandidatePairs:
        """One pair per (item, candidate), in item order."""
        query_rows = [row for row, found in enumerate(candidates) for _ in found]
        chosen = [n for found in candidates for n in found]
        candidate_ids = [n.listing_id for n in chosen]
        return CandidatePairs.from_vectors(
            query_ids=[items[row].listing.listing_id for row in query_rows],
            candidate_ids=candidate_ids,
            query_text=vectors[query_rows] if query_rows else np.zeros((0, vectors.shape[1]), np.float32),
            candidate_text=self._candidate_vectors(candidate_ids, items, vectors),
            query_listings=[items[row].attributes for row in query_rows],
            candidate_listings=[n.attributes for n in chosen],
        )

    def _candidate_vectors(self, ids: Sequence[str], items: Sequence[Incoming], vectors: np.ndarray) -> np.ndarray:
        """Vectors of the candidates: this batch first, then Redis, then Milvus for the rest."""
        known: dict[str, np.ndarray] = {item.listing.listing_id: vectors[i] for i, item in enumerate(items)}
        wanted = sorted(set(ids) - known.keys())
        if wanted and self.cache is not None:
            known.update({key: value.text for key, value in self.cache.get_listings(wanted).items()})
        still_missing = [key for key in wanted if key not in known]
        if still_missing:
            fetched = self.store.fetch_vectors(still_missing)
            known.update({key: text for key, (text, _image) in fetched.items()})
        dim = vectors.shape[1]
        return np.array([known.get(key, np.zeros(dim, np.float32)) for key in ids], dtype=np.float32).reshape(-1, dim)

    def _score(self, pairs: CandidatePairs) -> np.ndarray:
        return self.model.decider.score(pairs) if len(pairs) else np.zeros(0, dtype=np.float32)

    def _events(self, items: Sequence[Incoming], pairs: CandidatePairs, scores: np.ndarray) -> list[DuplicateFound]:
        decider = self.model.decider
        accepted = np.flatnonzero(scores >= decider.threshold)
        if len(accepted) == 0:
            return []
        # Explanations cost more than scores: only for the pairs that become matches.
        reasons = decider.explain(_rows(pairs, accepted))
        matches: dict[str, list[Match]] = {}
        for i, reason in zip(accepted, reasons):
            matches.setdefault(pairs.query_ids[i], []).append(
                Match(
                    listing_id=pairs.candidate_ids[i],
                    score=round(float(scores[i]), 6),
                    text_similarity=round(float(pairs.text_similarity[i]), 6),
                    image_similarity=_optional(pairs.image_similarity[i]),
                    reason=reason,
                )
            )
        by_id = {item.listing.listing_id: item for item in items}
        return [self._event(by_id[listing_id], found) for listing_id, found in matches.items()]

    def _event(self, item: Incoming, found: list[Match]) -> DuplicateFound:
        found.sort(key=lambda match: (-match.score, match.listing_id))
        decider = self.model.decider
        return DuplicateFound(
            event_id=duplicate_event_id(item.listing.listing_id, item.content_hash, self.model.version),
            listing_id=item.listing.listing_id,
            matches=found,
            decider=DeciderRef(name=decider.name, version=decider.version),
            model_version=self.model.version,
            detected_at=utc_now_iso(),
            source=item.source,
        )


def _rows(pairs: CandidatePairs, rows: np.ndarray) -> CandidatePairs:
    pick = [int(row) for row in rows]
    return CandidatePairs(
        query_ids=[pairs.query_ids[i] for i in pick],
        candidate_ids=[pairs.candidate_ids[i] for i in pick],
        text_similarity=pairs.text_similarity[pick],
        image_similarity=pairs.image_similarity[pick],
        query_text=pairs.query_text[pick],
        candidate_text=pairs.candidate_text[pick],
        query_listings=[pairs.query_listings[i] for i in pick] if pairs.query_listings else [],
        candidate_listings=[pairs.candidate_listings[i] for i in pick] if pairs.candidate_listings else [],
    )


def latest_per_listing(batch: Sequence[Incoming]) -> list[Incoming]:
    """A listing republished within one batch counts once, with its newest content."""
    latest: dict[str, Incoming] = {}
    for item in batch:
        latest[item.listing.listing_id] = item
    return list(latest.values())


def _is_earlier(neighbour: Neighbour, own_key: tuple[int, str]) -> bool:
    return (neighbour.first_seen_ms, neighbour.listing_id) < own_key


def _record(item: Incoming, text_vector: np.ndarray, first_seen_ms: int) -> ListingRecord:
    listing = item.listing
    return ListingRecord(
        listing_id=listing.listing_id,
        text_vector=text_vector,
        image_vector=None,
        category=clip_utf8(listing.category),
        seller_id=clip_utf8(listing.seller_id),
        created_at_ms=item.created_at_ms,
        price=listing.price,
        attributes=item.attributes,
        codes=item.codes,
        first_seen_ms=first_seen_ms,
        text=item.lexical,
    )


def clip_utf8(value: str | None, max_bytes: int = MAX_LABEL_LENGTH) -> str | None:
    """Milvus VARCHAR limits count bytes; an over-long label must not fail the whole batch."""
    if value is None:
        return None
    return value.encode()[:max_bytes].decode(errors="ignore")


def _optional(value: Any) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 6)
