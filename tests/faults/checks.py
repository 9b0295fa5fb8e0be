"""Zero loss, checked the same way after every fault (local and Milvus-server faults alike).

After a fault and a recovery: every published valid listing is in Milvus exactly once (rows counted ==
distinct ids == the published ids), every expected duplicate pair was emitted at least once, every invalid
record is on the DLQ with a reason (once, where nothing was killed), and nothing else is. Each check
appends one JSON line to the file named by ``DEDUP_FAULT_REPORT`` (when set), so that the README's table
comes from one run: ``DEDUP_FAULT_REPORT=faults.jsonl .venv/bin/pytest -m faults``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from confluent_kafka import Message
from pymilvus import MilvusClient

from stream.settings import MilvusSettings, Settings
from tests.streaming import duplicate_events, found_pairs, read

REPORT_ENV = "DEDUP_FAULT_REPORT"
Position = tuple[int, int]  # partition, offset of a record on the listings topic
_QUERY_LIMIT = 16_384  # Milvus' largest query window; the fault tests stay far below it


@dataclass
class Published:
    """What a fault test sent: valid listing ids, invalid records by position, expected duplicate pairs."""

    valid_ids: set[str] = field(default_factory=set)
    invalid: dict[Position, bytes] = field(default_factory=dict)
    expected_pairs: set[frozenset[str]] = field(default_factory=set)
    records: int = 0

    def add_valid(self, listing_ids: list[str]) -> None:
        self.valid_ids.update(listing_ids)
        self.records += len(listing_ids)

    def add_invalid(self, positions: list[Position], values: list[bytes]) -> None:
        self.invalid.update(zip(positions, values, strict=True))
        self.records += len(values)


@dataclass(frozen=True)
class FaultRecord:
    """One row of the README's fault table."""

    fault: str
    runs: int
    published: int  # valid listings
    stored: int  # rows in the collection
    lost: int  # published valid listings not stored
    pairs_expected: int
    pairs_emitted: int  # of the expected pairs, how many were emitted
    dlq_expected: int  # invalid records published
    dlq_records: int  # letters on the DLQ (more than expected where a kill caused a resend)
    notes: str = ""


def stored_ids(milvus: MilvusSettings) -> tuple[int, list[str]]:
    """The collection's row count (count(*)) and every stored listing id (repeats kept)."""
    token = milvus.token.get_secret_value() if milvus.token else ""
    client = MilvusClient(uri=milvus.uri, token=token, dedicated=True)
    try:
        client.load_collection(milvus.collection)  # a Lite file opened afresh has it released
        count = client.query(milvus.collection, filter="", output_fields=["count(*)"], consistency_level="Strong")
        rows = client.query(
            milvus.collection, filter='listing_id != ""', output_fields=["listing_id"],
            limit=_QUERY_LIMIT, consistency_level="Strong",
        )  # fmt: skip
    finally:
        client.close()
    assert len(rows) < _QUERY_LIMIT, "too many rows to check in one query"
    return int(count[0]["count(*)"]), [str(row["listing_id"]) for row in rows]


def letter_position(message: Message, topic: str) -> Position | None:
    """Where the dead letter's record sat on ``topic`` (None: a letter from another topic)."""
    headers = {name: value or b"" for name, value in message.headers() or []}
    if headers.get("dedup.source.topic", b"").decode() != topic:
        return None
    return int(headers["dedup.source.partition"]), int(headers["dedup.source.offset"])


def letter_reason(message: Message) -> str:
    return dict(message.headers() or []).get("dedup.error", b"").decode()


def carries(message: Message, original: bytes) -> bool:
    """The letter holds the original bytes, or a prefix of them with their size and digest."""
    value = message.value() or b""
    headers = dict(message.headers() or [])
    if headers.get("dedup.truncated") != b"true":
        return value == original
    digest = hashlib.sha256(original).hexdigest().encode()
    return original.startswith(value) and headers.get("dedup.original.sha256") == digest


def check_zero_loss(
    settings: Settings,
    published: Published,
    *,
    fault: str,
    runs: int,
    letters_once: bool,
    notes: str = "",
    report: bool = True,
) -> FaultRecord:
    """Reads the store, the duplicates and the DLQ, reports the row (unless not ``report``), asserts zero loss."""
    count, ids = stored_ids(settings.milvus)
    emitted = found_pairs(duplicate_events(settings))
    letters = read(settings, settings.topics.dlq)
    record = FaultRecord(
        fault=fault,
        runs=runs,
        published=len(published.valid_ids),
        stored=count,
        lost=len(published.valid_ids - set(ids)),
        pairs_expected=len(published.expected_pairs),
        pairs_emitted=len(published.expected_pairs & emitted),
        dlq_expected=len(published.invalid),
        dlq_records=len(letters),
        notes=notes,
    )
    if report:
        write_report(record)
    _assert_stored_once(count, ids, published.valid_ids)
    missing_pairs = [sorted(pair) for pair in published.expected_pairs - emitted]
    assert not missing_pairs, f"{len(missing_pairs)} expected pairs never emitted: {missing_pairs[:10]}"
    _assert_dead_lettered(letters, published.invalid, settings.topics.listings, once=letters_once)
    return record


def _assert_stored_once(count: int, ids: list[str], valid_ids: set[str]) -> None:
    lost = sorted(valid_ids - set(ids))
    assert not lost, f"{len(lost)} valid listings lost: {lost[:20]}"
    unexpected = sorted(set(ids) - valid_ids)
    assert not unexpected, f"stored, but never published as valid: {unexpected[:20]}"
    assert count == len(ids) == len(valid_ids), f"{count} rows, {len(ids)} ids, {len(valid_ids)} published"


def _assert_dead_lettered(letters: list[Message], invalid: dict[Position, bytes], topic: str, *, once: bool) -> None:
    positions = Counter(letter_position(message, topic) for message in letters)
    valid_letters = sorted(set(positions) - set(invalid), key=str)
    assert not valid_letters, f"dead-lettered, but valid (or from elsewhere): {valid_letters[:10]}"
    missing = sorted(set(invalid) - set(positions))
    assert not missing, f"{len(missing)} invalid records not dead-lettered: {missing[:10]}"
    for message in letters:
        assert letter_reason(message), "a dead letter without a reason"
        position = letter_position(message, topic)
        assert position is not None and carries(message, invalid[position]), f"{position}: not its record"
    if once:
        twice = [position for position, times in positions.items() if times > 1]
        assert not twice, f"dead-lettered more than once: {twice[:10]}"


def combined(records: list[FaultRecord], *, fault: str, notes: str = "") -> FaultRecord:
    """One row for a fault checked on several topics (e.g. one per hypothesis example): counts added up."""
    counts = [item.name for item in dataclasses.fields(FaultRecord) if item.type == "int"]
    totals = {name: sum(getattr(record, name) for record in records) for name in counts}
    return FaultRecord(fault=fault, notes=notes, **totals)


def write_report(record: FaultRecord) -> None:
    """Appends the record as one JSON line to $DEDUP_FAULT_REPORT; nothing when it is unset."""
    target = os.environ.get(REPORT_ENV)
    if not target:
        return
    with Path(target).open("ab") as report:
        report.write(orjson.dumps(dataclasses.asdict(record)) + b"\n")


def table_rows(report_path: Path) -> str:
    """The README's fault table rows from a report file, one per JSON line."""
    rows = []
    for line in report_path.read_bytes().splitlines():
        r = FaultRecord(**orjson.loads(line))
        rows.append(
            f"| {r.fault} | {r.runs} | {r.published} | {r.stored} | {r.lost} | {r.pairs_expected} / {r.pairs_emitted} "
            f"| {r.dlq_records} ({r.dlq_expected}) |"
        )
    return "\n".join(rows)


if __name__ == "__main__":  # python -m tests.faults.checks faults.jsonl
    import sys

    print(table_rows(Path(sys.argv[1])))
