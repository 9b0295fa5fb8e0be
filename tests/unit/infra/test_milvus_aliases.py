"""The configured name as an alias: physical names, resolution, claiming, switching, dropping (a fake client)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pymilvus.exceptions import MilvusException

from infra.milvus.aliases import MAX_NAME_LENGTH, claim, drop_aliases, physical_name, resolve, switch


class FakeMilvus:
    """Collections and aliases as Milvus keeps them; records the calls that change them."""

    def __init__(self, collections: set[str], aliases: dict[str, str] | None = None) -> None:
        self.collections = set(collections)
        self.aliases = dict(aliases or {})
        self.calls: list[tuple[str, ...]] = []

    def has_collection(self, name: str, timeout: float) -> bool:
        return name in self.collections or name in self.aliases

    def describe_collection(self, name: str, timeout: float) -> dict[str, Any]:
        return {"collection_name": self.aliases.get(name, name)}

    def create_alias(self, collection: str, alias: str, timeout: float) -> None:
        if alias in self.aliases or alias in self.collections:
            raise MilvusException(message=f"alias {alias} exists")
        self.calls.append(("create_alias", collection, alias))
        self.aliases[alias] = collection

    def alter_alias(self, collection: str, alias: str, timeout: float) -> None:
        self.calls.append(("alter_alias", collection, alias))
        self.aliases[alias] = collection

    def rename_collection(self, old: str, new: str, timeout: float) -> None:
        self.calls.append(("rename_collection", old, new))
        self.collections = (self.collections - {old}) | {new}

    def load_collection(self, name: str, timeout: float) -> None:
        self.calls.append(("load_collection", name))

    def list_aliases(self, collection: str, timeout: float) -> dict[str, Any]:
        return {"aliases": [alias for alias, target in self.aliases.items() if target == collection]}

    def drop_alias(self, alias: str, timeout: float) -> None:
        self.calls.append(("drop_alias", alias))
        del self.aliases[alias]


def test_physical_names_are_per_model_valid_and_within_milvus_limits() -> None:
    first, second = physical_name("listings", "minilm+len64+pca-1"), physical_name("listings", "minilm+len64+pca-2")
    assert first != second and first == physical_name("listings", "minilm+len64+pca-1")
    assert re.fullmatch(r"listings__[0-9a-f]{10}", first)
    assert len(physical_name("x" * MAX_NAME_LENGTH, "v")) == MAX_NAME_LENGTH


def test_resolve_tells_an_alias_a_plain_collection_and_nothing_apart() -> None:
    milvus = FakeMilvus({"listings__a", "plain"}, {"listings": "listings__a"})
    assert resolve(milvus, "listings", 1) == "listings__a"
    assert resolve(milvus, "plain", 1) == "plain"
    assert resolve(milvus, "missing", 1) is None


def test_claim_creates_the_alias_or_yields_to_the_worker_that_was_first() -> None:
    milvus = FakeMilvus({"listings__a", "listings__b"})
    assert claim(milvus, "listings", "listings__a", 1) == "listings__a"
    assert claim(milvus, "listings", "listings__b", 1) == "listings__a"
    assert milvus.aliases == {"listings": "listings__a"}


def test_claim_raises_when_the_alias_cannot_be_created_and_does_not_exist() -> None:
    class Refusing(FakeMilvus):
        def create_alias(self, collection: str, alias: str, timeout: float) -> None:
            raise MilvusException(message="no permission")

    with pytest.raises(MilvusException, match="no permission"):
        claim(Refusing({"listings__a"}), "listings", "listings__a", 1)


def test_switch_moves_an_alias_in_one_call() -> None:
    milvus = FakeMilvus({"listings__a", "listings__b"}, {"listings": "listings__a"})
    assert switch(milvus, "listings", "listings__b", 1, plain_renamed_to="unused") == "listings__a"
    assert milvus.calls == [("alter_alias", "listings__b", "listings")]
    assert resolve(milvus, "listings", 1) == "listings__b"


def test_switch_renames_a_plain_collection_out_of_the_alias_way_and_keeps_it_loaded() -> None:
    milvus = FakeMilvus({"listings", "listings__b"})
    previous = switch(milvus, "listings", "listings__b", 1, plain_renamed_to="listings__a")
    assert previous == "listings__a"
    assert milvus.calls == [
        ("rename_collection", "listings", "listings__a"),
        ("create_alias", "listings__b", "listings"),
        ("load_collection", "listings__a"),
    ]
    assert resolve(milvus, "listings", 1) == "listings__b"


def test_switch_creates_the_alias_where_there_was_nothing() -> None:
    milvus = FakeMilvus({"listings__b"})
    assert switch(milvus, "listings", "listings__b", 1, plain_renamed_to="x") is None
    assert milvus.aliases == {"listings": "listings__b"}


def test_drop_aliases_drops_only_those_of_the_collection() -> None:
    milvus = FakeMilvus({"a", "b"}, {"one": "a", "two": "a", "three": "b"})
    assert sorted(drop_aliases(milvus, "a", 1)) == ["one", "two"]
    assert milvus.aliases == {"three": "b"}
