"""One micro-batch of valid listings -> vectors -> Milvus -> candidates -> decider -> events.

Order matters: the batch is upserted *before* it is searched, so two duplicates that arrive in
the same batch find each other. A listing only ever matches listings stored before it (by the
time each listing was first stored, kept across reprocessing, then listing_id), so a pair is
reported once, by whichever member was processed second, and a replay reports it the same way.

Deletions go first (their retractions delivered, then the listings removed: stream.worker.lifecycle), so
no listing of the batch matches a listing the batch deletes. Each listing's reported matches are written
only after its events are delivered (``deliver``), so a crash before computes the same retractions again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from decider.bundle import ModelBundle
from decider.pairs import CandidatePairs
from infra.cache import CachedVectors, EmbeddingCache
from infra.milvus.earlier import is_earlier
from infra.milvus.lifecycle import StoredState
from infra.milvus.records import ListingRecord, Neighbour
from infra.milvus.store import ListingStore
from stream.events import DeciderRef, DuplicateFound, Match, duplicate_event_id, utc_now_iso
from stream.worker.incoming import Incoming, listing_record
from stream.worker.lifecycle import Deletion, Deliver, apply_deletions, settled_records, update_retractions
from stream.worker.photos import PhotoStep
from stream.worker.prepare import BatchVectors, ListingPreparer, PipelineReport, PreparedListings

log = logging.getLogger(__name__)


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
        photos: PhotoStep | None = None,
        photo_candidates: int = 0,
        on_scored: Callable[[CandidatePairs, np.ndarray], None] | None = None,
    ) -> None:
        self.model = model
        self.store = store
        self.cache = cache
        self.candidates = candidates
        self.lexical_candidates = lexical_candidates
        self.group_candidates = group_candidates
        self.photos = photos
        self.preparer = ListingPreparer(model, cache, photos)
        self.photo_candidates = photo_candidates
        self.clock_ms = lambda: int(time.time() * 1000)
        # Evaluation hook: sees every candidate pair with its score, so the candidate stage's recall
        # can be measured and each missed pair explained (not a candidate, or scored below threshold).
        self.on_scored = on_scored

    def process(self, batch: Sequence[Incoming | Deletion], deliver: Deliver | None = None) -> PipelineReport:
        """``deliver`` sends events and flushes (raising on failure); without it, events are only returned."""
        return self.finish(self.prepare(batch), deliver)

    def prepare(self, batch: Sequence[Incoming | Deletion]) -> PreparedListings:
        """The half that needs no store (vectors): the live worker runs it a batch ahead."""
        return self.preparer.prepare(batch)

    def finish(self, prepared: PreparedListings, deliver: Deliver | None = None) -> PipelineReport:
        """Deletions, then the listings: upsert, search, decide, deliver (``deliver``), settle."""
        items, vectors, report = prepared.items, prepared.vectors, prepared.report
        if prepared.deletions:
            with report.timed("delete"):
                report.retractions += apply_deletions(self.store, self.cache, prepared.deletions, deliver)
        if not items:
            return report
        text, photo_vectors = vectors.text, vectors.photos
        with report.timed("upsert"):
            states = self.store.stored_states([item.listing.listing_id for item in items])
            first_seen = self._first_seen(items, states)
            records = [
                listing_record(item, text[i], photo_vectors[i], first_seen[i], states.get(item.listing.listing_id))
                for i, item in enumerate(items)
            ]
            self.store.upsert(records)
        with report.timed("cache"):
            if self.cache is not None:
                self.cache.put_listings(
                    {item.listing.listing_id: CachedVectors(text[i], photo_vectors[i]) for i, item in enumerate(items)}
                )
        # Every search keeps to listings stored before each query (in Milvus, so later ones never crowd them out).
        order_keys = [(seen, item.listing.listing_id) for seen, item in zip(first_seen, items, strict=True)]
        with report.timed("search"):
            neighbours = self.store.search(text, limit=self.candidates, earlier_than=order_keys)
        with report.timed("photo_search"):
            photo_alike = self._photo_matches(photo_vectors, order_keys)
        with report.timed("lexical_search"):
            worded_alike = self._lexical_matches(items, order_keys)
        with report.timed("candidates"):
            chosen = [
                self._earlier_candidates(found, by_text, by_photo)
                for found, by_text, by_photo in zip(neighbours, worded_alike, photo_alike, strict=True)
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
        checked = [(item.listing.listing_id, item.source) for item in items]
        retractions = update_retractions(checked, states, report.duplicates) if self.store.reported else []
        report.retractions += retractions
        if deliver is not None and (report.duplicates or retractions):
            with report.timed("deliver"):
                deliver([*report.duplicates, *retractions])
        with report.timed("settle"):
            self._settle(records, report.duplicates, [*(n for found in chosen for n in found), *members])
        return report

    def _first_seen(self, items: Sequence[Incoming], stored: dict[str, StoredState]) -> list[int]:
        """When each listing was first stored: kept across reprocessing, now for new listings.

        Matching runs against listings stored *before* this one. Ordering by this processing
        time rather than by created_at loses no pair when partitions are consumed out of
        timestamp order, and a replay sees exactly what the first run saw.
        """
        now = self.clock_ms()
        return [stored[i.listing.listing_id].first_seen_ms if i.listing.listing_id in stored else now for i in items]

    def _lexical_matches(
        self, items: Sequence[Incoming], order_keys: Sequence[tuple[int, str]]
    ) -> list[list[Neighbour]]:
        """Earlier listings sharing the rarest words, identifiers or photo hash (BM25), when the channel is on."""
        if self.lexical_candidates <= 0:
            return [[] for _ in items]
        texts = [item.lexical for item in items]
        return self.store.search_text(texts, limit=self.lexical_candidates, earlier_than=order_keys)

    def _photo_matches(
        self, photo_vectors: Sequence[np.ndarray | None], order_keys: Sequence[tuple[int, str]]
    ) -> list[list[Neighbour]]:
        """Earlier listings with the nearest photos, for the listings that have a photo vector."""
        rows = [row for row, vector in enumerate(photo_vectors) if vector is not None]
        found: list[list[Neighbour]] = [[] for _ in photo_vectors]
        if self.photo_candidates <= 0 or not rows:
            return found
        matrix = np.stack([photo_vectors[row] for row in rows])
        keys = [order_keys[row] for row in rows]
        searched = self.store.search_images(matrix, limit=self.photo_candidates, earlier_than=keys)
        for row, neighbours in zip(rows, searched, strict=True):
            found[row] = neighbours
        return found

    def _earlier_candidates(
        self, by_vector: Sequence[Neighbour], by_text: Sequence[Neighbour], by_photo: Sequence[Neighbour]
    ) -> list[Neighbour]:
        """The nearest earlier neighbours, then the best earlier BM25 and photo matches not among them
        (the searches return earlier listings only)."""
        chosen: list[Neighbour] = []
        seen: set[str] = set()
        channels = ((by_vector, self.candidates), (by_text, self.lexical_candidates), (by_photo, self.photo_candidates))
        for found, limit in channels:
            fresh = [n for n in found if n.listing_id not in seen][:limit]
            seen.update(n.listing_id for n in fresh)
            chosen.extend(fresh)
        return chosen

    def _with_group_members(
        self,
        items: Sequence[Incoming],
        vectors: BatchVectors,
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
                if member.listing_id not in seen and is_earlier(member, order_keys[row]):
                    seen.add(member.listing_id)
                    extra[row].append(member)
            extra[row] = extra[row][: self.group_candidates]
        more = self._candidate_pairs(items, vectors, extra)
        return pairs + more, np.concatenate([scores, self._score(more)]), members

    def _settle(
        self, records: Sequence[ListingRecord], events: Sequence[DuplicateFound], found: Sequence[Neighbour]
    ) -> None:
        """Once the events are delivered, in one upsert: what each listing reported, and for each that matched,
        the group of its best match."""
        groups = {n.listing_id: n.group for n in found} if self.group_candidates > 0 and self.store.groups else None
        self.store.upsert(settled_records(records, events, groups, reported=self.store.reported))

    def _candidate_pairs(
        self, items: Sequence[Incoming], vectors: BatchVectors, candidates: Sequence[Sequence[Neighbour]]
    ) -> CandidatePairs:
        """One pair per (item, candidate), in item order."""
        query_rows = [row for row, found in enumerate(candidates) for _ in found]
        chosen = [n for found in candidates for n in found]
        candidate_ids = [n.listing_id for n in chosen]
        candidate_text, candidate_photos = self._candidate_vectors(candidate_ids, items, vectors)
        dim = vectors.text.shape[1]
        return CandidatePairs.from_vectors(
            query_ids=[items[row].listing.listing_id for row in query_rows],
            candidate_ids=candidate_ids,
            query_text=vectors.text[query_rows] if query_rows else np.zeros((0, dim), np.float32),
            candidate_text=candidate_text,
            image_similarity=photo_similarity([vectors.photos[row] for row in query_rows], candidate_photos),
            query_listings=[items[row].attributes for row in query_rows],
            candidate_listings=[n.attributes for n in chosen],
        )

    def _candidate_vectors(
        self, ids: Sequence[str], items: Sequence[Incoming], vectors: BatchVectors
    ) -> tuple[np.ndarray, list[np.ndarray | None]]:
        """Text and photo vectors of the candidates: this batch first, then Redis, then Milvus for the rest."""
        known: dict[str, CachedVectors] = {
            item.listing.listing_id: CachedVectors(vectors.text[i], vectors.photos[i]) for i, item in enumerate(items)
        }
        wanted = sorted(set(ids) - known.keys())
        if wanted and self.cache is not None:
            known.update(self.cache.get_listings(wanted))
        still_missing = [key for key in wanted if key not in known]
        if still_missing:
            fetched = self.store.fetch_vectors(still_missing)
            known.update({key: CachedVectors(text, photo) for key, (text, photo) in fetched.items()})
        dim = vectors.text.shape[1]
        text = np.array([known[key].text if key in known else np.zeros(dim, np.float32) for key in ids], np.float32)
        photos = [known[key].image if key in known else None for key in ids]
        return text.reshape(-1, dim), photos

    def _score(self, pairs: CandidatePairs) -> np.ndarray:
        return self.model.decider.score(pairs) if len(pairs) else np.zeros(0, dtype=np.float32)

    def _events(self, items: Sequence[Incoming], pairs: CandidatePairs, scores: np.ndarray) -> list[DuplicateFound]:
        decider = self.model.decider
        accepted = np.flatnonzero(scores >= decider.threshold)
        if len(accepted) == 0:
            return []
        # Explanations cost more than scores: only for the pairs that become matches.
        reasons = decider.explain(pairs.rows(accepted))
        matches: dict[str, list[Match]] = {}
        for i, reason in zip(accepted, reasons, strict=True):
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
            event_id=duplicate_event_id(item.listing.listing_id, item.content_hash, self.model.version, item.revision),
            photo_error=item.photo_error,
            listing_id=item.listing.listing_id,
            matches=found,
            decider=DeciderRef(name=decider.name, version=decider.version),
            model_version=self.model.version,
            detected_at=utc_now_iso(),
            source=item.source,
        )


def photo_similarity(queries: Sequence[np.ndarray | None], candidates: Sequence[np.ndarray | None]) -> np.ndarray:
    """Cosine of the two photo vectors per pair (both L2-normalised); NaN where either side has none."""
    return np.array(
        [np.nan if q is None or c is None else float(np.dot(q, c)) for q, c in zip(queries, candidates, strict=True)],
        dtype=np.float32,
    )


def _optional(value: Any) -> float | None:
    return None if value is None or np.isnan(value) else round(float(value), 6)
