"""decider.datasets.labeled: the four shared sets load as documented, malformed files fail clearly."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from decider.datasets.labeled import DatasetError, LabeledPair, load_dataset, write_dataset
from tests.paths import SHARED_DATA

needs_shared_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data not present")

# Counts from the table in shared/data/README.md.
README_COUNTS = {
    "wdc-products": (
        3_496,
        {"train_small": 2_500, "train": 6_000, "valid": 3_500, "valid_large": 4_500, "test": 4_500},
    ),
    "abt-buy": (2_103, {"train": 5_743, "valid": 1_916, "test": 1_916}),
    "abt-buy-catalog": (2_161, {"all": 1_085}),
}


def pair(left: str, right: str) -> frozenset[str]:
    return frozenset((left, right))


def write_listings(root: Path, *ids: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    lines = [orjson.dumps({"listing_id": i, "title": f"title of {i}"}) for i in ids]
    (root / "listings.jsonl").write_bytes(b"\n".join(lines) + b"\n")


def write_pairs(root: Path, split: str, text: str) -> None:
    (root / "pairs").mkdir(parents=True, exist_ok=True)
    (root / "pairs" / f"{split}.csv").write_text(text)


# --- the shared sets ------------------------------------------------------------------------


@needs_shared_data
@pytest.mark.parametrize("name", sorted(README_COUNTS))
def test_shared_sets_have_the_documented_counts(name: str) -> None:
    listings, split_sizes = README_COUNTS[name]
    dataset = load_dataset(SHARED_DATA / name)

    assert dataset.name == name
    assert len(dataset.listings) == listings
    assert {split: len(dataset.pairs(split)) for split in dataset.splits()} == split_sizes


@needs_shared_data
def test_wdc_products_has_500_positives_in_valid_and_test_and_pairs_agree_with_truth() -> None:
    dataset = load_dataset(SHARED_DATA / "wdc-products")
    duplicates = dataset.duplicate_pairs()
    clusters = dataset.clusters()

    assert clusters is not None and len(clusters) == len(dataset.listings)
    assert sum(p.label for p in dataset.pairs("valid")) == 500
    assert sum(p.label for p in dataset.pairs("test")) == 500
    for split in dataset.splits():
        for labeled in dataset.pairs(split):
            assert (labeled.key() in duplicates) == (labeled.label == 1), (split, labeled)


@needs_shared_data
def test_abt_buy_has_no_truth_so_duplicates_are_the_positives_of_every_split() -> None:
    dataset = load_dataset(SHARED_DATA / "abt-buy")
    positives = {p.key() for split in dataset.splits() for p in dataset.pairs(split) if p.label == 1}
    test_pairs = dataset.pairs("test")

    assert dataset.clusters() is None
    assert dataset.duplicate_pairs() == positives
    assert 0.09 < sum(p.label for p in test_pairs) / len(test_pairs) < 0.13  # "~11% positive"


@needs_shared_data
def test_abt_buy_catalog_truth_clusters_contain_every_known_pair() -> None:
    dataset = load_dataset(SHARED_DATA / "abt-buy-catalog")
    known = {p.key() for p in dataset.pairs("all")}
    from_truth = dataset.duplicate_pairs()

    assert all(p.label == 1 for p in dataset.pairs("all"))
    assert known <= from_truth
    # Connected components add the pairs implied by transitivity, and nothing else.
    clusters = dataset.clusters()
    assert clusters is not None
    assert all(clusters[a] == clusters[b] for a, b in (tuple(p) for p in from_truth - known))


@needs_shared_data
def test_listings_keep_file_order_and_raw_fields() -> None:
    dataset = load_dataset(SHARED_DATA / "wdc-products")
    with (SHARED_DATA / "wdc-products" / "listings.jsonl").open("rb") as lines:
        first = orjson.loads(next(lines))

    assert next(iter(dataset.listings.values())) == first


@needs_shared_data
def test_grocery_set_has_no_listings_file_and_says_so() -> None:
    with pytest.raises(DatasetError, match=r"grocery/listings\.jsonl: missing.*images\.csv"):
        load_dataset(SHARED_DATA / "grocery")


# --- malformed files ------------------------------------------------------------------------


def test_invalid_json_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "listings.jsonl").write_text('{"listing_id": "a", "title": "A"}\n\n{"listing_id": "b", "title": }\n')

    with pytest.raises(DatasetError, match=r"listings\.jsonl:3: not valid JSON"):
        load_dataset(tmp_path)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('["a", "A"]', "expected a JSON object, got array"),
        ('{"title": "A"}', "listing_id: Field required"),
        ('{"listing_id": 7, "title": "A"}', "listing_id: Input should be a valid string"),
        ('{"listing_id": "b", "title": "  "}', "title: Value error, title is blank"),
        ('{"listing_id": "b", "title": "B", "price": -1}', "price: Input should be greater than or equal to 0"),
        ('{"listing_id": "a", "title": "again"}', "duplicate listing_id 'a'"),
    ],
)
def test_bad_listing_lines_are_reported_with_their_line_number(tmp_path: Path, line: str, problem: str) -> None:
    (tmp_path / "listings.jsonl").write_text('{"listing_id": "a", "title": "A"}\n' + line + "\n")

    with pytest.raises(DatasetError) as raised:
        load_dataset(tmp_path)

    assert str(raised.value).startswith(f"{tmp_path / 'listings.jsonl'}:2: ")
    assert problem in str(raised.value)


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        ("left_id,right_id,label\na,b,1\nb,c,0\na,c,yes\n", r"train\.csv:4: label must be 0 or 1, got 'yes'"),
        ("left_id,right_id,label\na,b,1\na,zz,0\n", r"train\.csv:3: listing id 'zz' is not in listings\.jsonl"),
        ("left_id,right_id,label\na,a,1\n", r"train\.csv:2: listing 'a' is paired with itself"),
        ("left_id,right_id,label\na,b\n", r"train\.csv:2: expected 3 fields, got 2"),
        ("left,right,label\na,b,1\n", r"train\.csv:1: header .* lacks column\(s\) left_id, right_id"),
        ("", r"train\.csv:1: empty file"),
    ],
)
def test_bad_pair_files_are_reported_with_their_line_number(tmp_path: Path, csv_text: str, expected: str) -> None:
    write_listings(tmp_path, "a", "b", "c")
    write_pairs(tmp_path, "train", csv_text)

    with pytest.raises(DatasetError, match=expected):
        load_dataset(tmp_path)


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        ("listing_id,cluster_id\na,1\nq,1\n", r"truth\.csv:3: listing id 'q' is not in listings\.jsonl"),
        ("listing_id,cluster_id\na,1\na,2\n", r"truth\.csv:3: listing id 'a' appears twice"),
        ("listing_id,cluster_id\na,\n", r"truth\.csv:2: empty cluster_id"),
    ],
)
def test_bad_truth_files_are_reported_with_their_line_number(tmp_path: Path, csv_text: str, expected: str) -> None:
    write_listings(tmp_path, "a", "b")
    (tmp_path / "truth.csv").write_text(csv_text)

    with pytest.raises(DatasetError, match=expected):
        load_dataset(tmp_path)


def test_a_missing_split_names_the_available_ones(tmp_path: Path) -> None:
    write_listings(tmp_path, "a", "b")
    write_pairs(tmp_path, "train", "left_id,right_id,label\na,b,1\n")
    write_pairs(tmp_path, "test", "left_id,right_id,label\na,b,1\n")

    with pytest.raises(DatasetError, match=r"no pair split 'valid'.*available: test, train"):
        load_dataset(tmp_path).pairs("valid")


def test_not_a_directory_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a directory"):
        load_dataset(tmp_path / "absent")


# --- duplicate pairs and writing -----------------------------------------------------------------


def test_duplicate_pairs_prefer_truth_then_all_split_then_every_split(tmp_path: Path) -> None:
    write_listings(tmp_path, "a", "b", "c", "d")
    write_pairs(tmp_path, "train", "left_id,right_id,label\na,b,1\nc,d,0\n")
    write_pairs(tmp_path, "test", "left_id,right_id,label\nc,d,1\n")
    assert load_dataset(tmp_path).duplicate_pairs() == {pair("a", "b"), pair("c", "d")}

    write_pairs(tmp_path, "all", "left_id,right_id,label\nb,c,1\na,d,0\n")
    assert load_dataset(tmp_path).duplicate_pairs() == {pair("b", "c")}

    (tmp_path / "truth.csv").write_text("listing_id,cluster_id\na,x\nb,x\nc,x\nd,y\n")
    assert load_dataset(tmp_path).duplicate_pairs() == {pair("a", "b"), pair("a", "c"), pair("b", "c")}


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    listings = [
        {"listing_id": "z-1", "title": 'WD Red 4TB 3.5"', "price": 99.5, "extra": {"nested": [1, 2]}},
        {"listing_id": "a-2", "title": 'Café, "quoted"', "price": None},
        {"listing_id": "m,3", "title": "comma in id"},
    ]
    splits = {"train": [LabeledPair("z-1", "a-2", 1)], "valid": [LabeledPair("a-2", "m,3", 0)]}
    truth = {"z-1": "c1", "a-2": "c1", "m,3": "c,2"}

    write_dataset(tmp_path, listings, pairs=splits, truth=truth)
    loaded = load_dataset(tmp_path)

    assert list(loaded.listings.values()) == listings
    assert {split: loaded.pairs(split) for split in loaded.splits()} == splits
    assert loaded.clusters() == truth
    assert loaded.duplicate_pairs() == {pair("z-1", "a-2")}


def test_write_refuses_to_replace_a_dataset_unless_asked_and_then_drops_stale_files(tmp_path: Path) -> None:
    write_dataset(
        tmp_path,
        [{"listing_id": "a", "title": "A"}, {"listing_id": "b", "title": "B"}],
        pairs={"old": [LabeledPair("a", "b", 1)]},
        truth={"a": "1", "b": "1"},
    )

    with pytest.raises(FileExistsError, match="overwrite"):
        write_dataset(tmp_path, [{"listing_id": "c", "title": "C"}])
    write_dataset(tmp_path, [{"listing_id": "c", "title": "C"}], overwrite=True)
    loaded = load_dataset(tmp_path)

    assert list(loaded.listings) == ["c"]
    assert loaded.splits() == []
    assert loaded.clusters() is None


@pytest.mark.parametrize(
    ("listings", "pairs", "truth", "expected"),
    [
        ([{"listing_id": "a"}], {}, None, "title must be a non-empty string"),
        ([{"listing_id": "a", "title": "A"}] * 2, {}, None, "appears twice"),
        ([{"listing_id": "a", "title": "A"}], {"x": [LabeledPair("a", "q", 1)]}, None, "unknown listing id 'q'"),
        ([{"listing_id": "a", "title": "A"}], {"../x": []}, None, "not a plain file name"),
        ([{"listing_id": "a", "title": "A"}], {}, {"q": "1"}, "truth names unknown listing id 'q'"),
    ],
)
def test_write_rejects_inconsistent_input_before_touching_disk(
    tmp_path: Path,
    listings: list[dict[str, str]],
    pairs: dict[str, list[LabeledPair]],
    truth: dict[str, str] | None,
    expected: str,
) -> None:
    with pytest.raises(DatasetError, match=expected):
        write_dataset(tmp_path / "out", listings, pairs=pairs, truth=truth)

    assert not (tmp_path / "out").exists()
