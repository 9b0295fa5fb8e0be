"""A fuzzed poison set interleaved with good records on one topic: every good one stored, every bad one
dead-lettered exactly once with a reason, and the worker never stops (hypothesis, derandomized)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from decider.bundle import ModelBundle
from encoders.listing import MAX_CREATED_AT_MS
from stream.settings import Settings
from tests.faults.checks import FaultRecord, Published, check_zero_loss, combined, write_report
from tests.faults.helpers import send
from tests.services import unique_name
from tests.streaming import committed_and_ends

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 3
IDLE_S = 3.0
# What breaks filters, JSON and logs: quotes, backslashes, control and separator characters, wide characters.
NASTY = ["'", '"', "\\", "\\'", "\x00", "\x1f", "\n", "\r", "\t", "\x7f", "\u2028", "%", "`", "é", "🙂", " OR 1=1 --"]
nasty_piece = st.one_of(st.sampled_from(NASTY), st.text(st.characters(codec="utf-8"), max_size=4))
tricky_text = st.lists(nasty_piece, max_size=6).map("".join)
STRING_FIELDS = ("description", "brand", "category", "currency", "seller_id", "model_number", "event_id")
GOOD_PRICES = [None, 0, 5e-324, 0.01, 2**53, 10**30, 3.4e38, 1e308]
GOOD_DATES = [None, 0, 5e-324, MAX_CREATED_AT_MS, 1e11, "1970-01-01", "2024-02-29T23:59:59.999999+14:00", "9999-12-31"]


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@st.composite
def good_listing(draw: st.DrawFn) -> dict[str, Any]:
    """A valid listing with nasty text in every string field; the test gives it a unique id prefix."""
    item: dict[str, Any] = {
        "listing_id": draw(tricky_text),
        "title": draw(tricky_text) + " Sony Bravia 55 TV " + draw(tricky_text),
        "price": draw(st.sampled_from(GOOD_PRICES)),
        "created_at": draw(st.sampled_from(GOOD_DATES)),
    }
    for name in STRING_FIELDS:
        item[name] = draw(st.one_of(st.none(), tricky_text))
    if draw(st.booleans()):
        item["extra"] = nested(draw(st.integers(1, 200)))  # unknown fields travel on untouched
    return item


def _with(base: bytes, **fields: Any) -> bytes:
    return orjson.dumps({**orjson.loads(base), **fields})


BASE = orjson.dumps({"listing_id": "bad", "title": "Sony Bravia 55 TV", "created_at": "2026-01-01"})
# Records the worker must dead-letter, by kind.
POISON = {
    "truncated JSON": BASE[: len(BASE) // 2],
    "invalid UTF-8": BASE.replace(b'"title":"', b'"title":"\xff\xfe', 1),
    "not an object": b"[" + BASE + b"]",
    "JSON null": b"null",
    "empty value": b"",
    "title a number": _with(BASE, title=42),
    "title an object": _with(BASE, title={"en": "Sony"}),
    "title null": _with(BASE, title=None),
    "listing_id null": _with(BASE, listing_id=None),
    "listing_id a number": _with(BASE, listing_id=7),
    "price a string": _with(BASE, price="cheap"),
    "price negative tiny": _with(BASE, price=-5e-324),
    "created_at huge": _with(BASE, created_at=1e30),
    "created_at negative": _with(BASE, created_at=-1),
    "created_at integer past 64 bits": BASE.replace(b'"2026-01-01"', b"1" + b"0" * 30),
    "title blank with controls": _with(BASE, title=" \t\n\r "),
    "title too long": _with(BASE, title="x" * 1_001),
    "listing_id over 256 bytes": _with(BASE, listing_id="\u00e9" * 129),
    "nesting past the parser's depth": BASE[:-1] + b',"deep":' + b"[" * 5_000 + b"]" * 5_000 + b"}",
    "oversized past the producer limit": _with(BASE, description="d" * 1_100_000),
}


@st.composite
def poisoned_topic(draw: st.DrawFn) -> list[tuple[bool, Any]]:
    """Good listings and poison in a random order, ending on a good listing: (is_good, listing or kind)."""
    goods = [(True, item) for item in draw(st.lists(good_listing(), min_size=2, max_size=6))]
    kinds = draw(st.lists(st.sampled_from(sorted(POISON)), min_size=3, max_size=8))
    mixed = draw(st.permutations([*goods, *((False, kind) for kind in kinds)]))
    return [*mixed, (True, {"listing_id": "last", "title": "Philips kettle HD9350"})]


def test_a_fuzzed_poison_set_is_dead_lettered_once_and_every_good_listing_is_stored(
    pipeline_settings: Settings, baseline_model: ModelBundle
) -> None:
    records: list[FaultRecord] = []
    poison_seen: set[str] = set()

    @settings(
        max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: each example runs a worker (seconds)
        suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(poisoned_topic())
    def run(topic: list[tuple[bool, Any]]) -> None:
        example = _fresh(pipeline_settings)
        published = Published()
        values = [_encode(index, entry, published) for index, entry in enumerate(topic)]
        positions = send(example, [(key, value) for key, value in values])
        for (is_good, entry), position, (_key, value) in zip(topic, positions, values, strict=True):
            if not is_good:
                published.add_invalid([position], [value])
                poison_seen.add(entry)
        _run_until_idle(example, baseline_model)
        records.append(check_zero_loss(example, published, fault="poison", runs=1, letters_once=True, report=False))

    run()
    write_report(combined(records, fault="fuzzed poison set (hypothesis)", notes=f"{len(poison_seen)} poison kinds"))


def _encode(index: int, entry: tuple[bool, Any], published: Published) -> tuple[bytes, bytes]:
    is_good, value = entry
    if not is_good:
        return b"poison", POISON[value]
    item = {**value, "listing_id": f"fz{index}:{value['listing_id']}"}
    published.add_valid([item["listing_id"]])
    return item["listing_id"].encode(), orjson.dumps(item)


def _fresh(base: Settings) -> Settings:
    """Topics, group and collection of this example's own."""
    name = unique_name("fuzz")
    return Settings(
        kafka={**base.kafka.model_dump(), "group_id": f"{name}_group"},
        topics={"listings": f"{name}-created", "duplicates": f"{name}-dup", "dlq": f"{name}-dlq", "partitions": 2},
        milvus={**base.milvus.model_dump(), "collection": name},
        redis={"url": base.redis.url.get_secret_value()},
        encoder=base.encoder.model_dump(),
        model=base.model.model_dump(),
        worker=base.worker.model_dump(),
    )


def _run_until_idle(settings: Settings, model: ModelBundle) -> None:
    from stream.worker.runtime import open_runtime

    with open_runtime(settings, model) as runtime:
        runtime.worker().run(until_idle=IDLE_S)
    committed, ends = committed_and_ends(settings)
    assert committed == ends, "the worker stopped before the end of the topic"
