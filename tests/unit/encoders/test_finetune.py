"""Contrastive fine-tuning of the text encoder, on CPU with tiny synthetic runs (a few steps each)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import AutoTokenizer, BertConfig, BertModel

from decider.synthetic.generator import generate_catalog
from encoders.listing import listing_text
from encoders.text import TextEncoder, default_text_model_path
from encoders.training.config import FinetuneConfig, FinetuneReport
from encoders.training.finetune import FINETUNE_FILE, finetune_text_encoder
from encoders.training.objective import contrastive_loss
from encoders.training.pairs import prepare_pairs

TRAIN_PAIRS = 40
# A large learning rate and no warm-up, so five steps move the weights measurably.
TINY_RUN = FinetuneConfig(epochs=1, batch_size=8, learning_rate=1e-4, warmup_ratio=0.0, seed=0)

Positives = list[tuple[str, str]]
HardNegatives = dict[str, list[str]]


@pytest.fixture(scope="module")
def synthetic_pairs() -> tuple[Positives, HardNegatives]:
    """40 duplicate pairs of a generated catalog and the labeled non-duplicates of their texts."""
    catalog = generate_catalog(120, seed=0)
    text_of = {listing["listing_id"]: listing_text(listing) for listing in catalog.listings}
    labeled = catalog.pairs(2)
    positives = [(text_of[p.left_id], text_of[p.right_id]) for p in labeled if p.label == 1][:TRAIN_PAIRS]
    anchors = {text for pair in positives for text in pair}
    hard_negatives: HardNegatives = {}
    for pair in (p for p in labeled if p.label == 0):
        left, right = text_of[pair.left_id], text_of[pair.right_id]
        hard_negatives.setdefault(left, []).append(right)
        hard_negatives.setdefault(right, []).append(left)
    return positives, {anchor: others for anchor, others in hard_negatives.items() if anchor in anchors}


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-layer, 32-wide BERT with the real tokenizer: the training mechanics at a fraction of the cost."""
    folder = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(default_text_model_path()).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def base_encoder(packaged_encoder: TextEncoder) -> TextEncoder:
    return packaged_encoder


@pytest.fixture(scope="module")
def tuned(synthetic_pairs: tuple[Positives, HardNegatives], tmp_path_factory: pytest.TempPathFactory) -> FinetuneReport:
    positives, hard_negatives = synthetic_pairs
    out_dir = tmp_path_factory.mktemp("tuned") / "text-encoder"
    return finetune_text_encoder(None, positives, hard_negatives, out_dir, TINY_RUN, progress=False, device="cpu")


def held_in_loss(encoder: TextEncoder, positives: Positives, hard_negatives: HardNegatives) -> float:
    """The training objective over all pairs at once: each left text must pick its right text."""
    negatives = sorted({n for left, _ in positives for n in hard_negatives.get(left, [])})
    rights = [right for _, right in positives]
    anchors = torch.from_numpy(encoder.encode([left for left, _ in positives]))
    candidates = torch.from_numpy(encoder.encode(rights + negatives))
    return float(contrastive_loss(anchors, candidates, temperature=TINY_RUN.temperature))


def positive_margin(encoder: TextEncoder, positives: Positives, hard_negatives: HardNegatives) -> float:
    """Mean cosine of duplicate pairs minus mean cosine of anchor / hard-negative pairs."""
    lefts, rights = (encoder.encode(list(side)) for side in zip(*positives, strict=True))
    positive_cosine = float(np.mean(np.sum(lefts * rights, axis=1)))
    negative_pairs = [(left, n) for left, _ in positives for n in hard_negatives.get(left, [])]
    anchors, negatives = (encoder.encode(list(side)) for side in zip(*negative_pairs, strict=True))
    return positive_cosine - float(np.mean(np.sum(anchors * negatives, axis=1)))


def test_training_lowers_the_held_in_loss(
    tuned: FinetuneReport, base_encoder: TextEncoder, synthetic_pairs: tuple[Positives, HardNegatives]
) -> None:
    tuned_encoder = TextEncoder(tuned.out_dir, device="cpu")
    before, after = held_in_loss(base_encoder, *synthetic_pairs), held_in_loss(tuned_encoder, *synthetic_pairs)
    assert after < 0.8 * before, (before, after)


def test_training_widens_the_gap_between_duplicates_and_hard_negatives(
    tuned: FinetuneReport, base_encoder: TextEncoder, synthetic_pairs: tuple[Positives, HardNegatives]
) -> None:
    tuned_encoder = TextEncoder(tuned.out_dir, device="cpu")
    before = positive_margin(base_encoder, *synthetic_pairs)
    after = positive_margin(tuned_encoder, *synthetic_pairs)
    assert after > before + 0.01, (before, after)


def test_report_covers_the_planned_run(tuned: FinetuneReport) -> None:
    # 40 pairs from distinct-enough products pack into 5 batches of 8 (a deferred pair may add one).
    assert tuned.steps == tuned.steps_planned >= TRAIN_PAIRS // TINY_RUN.batch_size
    assert tuned.epochs_done == pytest.approx(1.0)
    assert not tuned.stopped_early
    assert len(tuned.losses) == tuned.steps
    assert (tuned.loss_first, tuned.loss_last) == (tuned.losses[0], tuned.losses[-1])
    assert all(np.isfinite(tuned.losses)) and tuned.seconds > 0


def test_output_is_a_text_encoder_folder_with_a_new_version(tuned: FinetuneReport, base_encoder: TextEncoder) -> None:
    tuned_encoder = TextEncoder(tuned.out_dir, device="cpu")
    assert tuned_encoder.version != base_encoder.version
    assert tuned_encoder.name == "all-MiniLM-L6-v2-dedup-ft"
    assert tuned_encoder.dim == base_encoder.dim
    titles = ["Samsung 980 PRO 1TB NVMe M.2 SSD MZ-V8P1T0BW", "lg ldf6920bb fully integrated dishwasher"]
    vectors = tuned_encoder.encode(titles)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(vectors, base_encoder.encode(titles), atol=1e-3)


def test_metadata_records_base_config_report_and_data(
    tuned: FinetuneReport, base_encoder: TextEncoder, synthetic_pairs: tuple[Positives, HardNegatives]
) -> None:
    metadata = json.loads((tuned.out_dir / FINETUNE_FILE).read_text())
    assert metadata["base_model"]["version"] == base_encoder.version
    assert metadata["config"]["batch_size"] == TINY_RUN.batch_size
    assert metadata["report"]["steps"] == tuned.steps
    assert metadata["data"]["positive_pairs_used"] == TRAIN_PAIRS
    assert metadata["data"]["fingerprint"] == prepare_pairs(*synthetic_pairs).fingerprint
    assert not list(tuned.out_dir.parent.glob(".*.tmp")), "the staging folder was left behind"


def tiny_run(
    model: Path, pairs: tuple[Positives, HardNegatives], out_dir: Path, config: FinetuneConfig
) -> FinetuneReport:
    """Eight pairs sharing no text: eight products, so batches of 4 pack into exactly 2 steps per epoch."""
    positives, hard_negatives = pairs
    chosen: Positives = []
    for pair in positives:
        if len(chosen) < 8 and not set(pair) & {text for kept in chosen for text in kept}:
            chosen.append(pair)
    return finetune_text_encoder(model, chosen, hard_negatives, out_dir, config, progress=False, device="cpu")


def test_same_seed_gives_the_same_run_and_another_seed_does_not(
    tmp_path: Path, tiny_bert: Path, synthetic_pairs: tuple[Positives, HardNegatives]
) -> None:
    config = FinetuneConfig(epochs=1, batch_size=4, seed=7)
    first = tiny_run(tiny_bert, synthetic_pairs, tmp_path / "first", config)
    again = tiny_run(tiny_bert, synthetic_pairs, tmp_path / "again", config)
    reseeded_config = FinetuneConfig(epochs=1, batch_size=4, seed=8)
    reseeded = tiny_run(tiny_bert, synthetic_pairs, tmp_path / "reseeded", reseeded_config)
    assert first.losses == again.losses
    assert TextEncoder(first.out_dir, device="cpu").version == TextEncoder(again.out_dir, device="cpu").version
    assert reseeded.losses != first.losses


def test_max_minutes_stops_after_the_step_that_crosses_it(
    tmp_path: Path, tiny_bert: Path, synthetic_pairs: tuple[Positives, HardNegatives]
) -> None:
    # A budget of a microsecond is spent by the first step, whatever the machine.
    config = FinetuneConfig(epochs=3, batch_size=4, max_minutes=1e-6 / 60)
    report = tiny_run(tiny_bert, synthetic_pairs, tmp_path / "boxed", config)
    assert report.steps == 1
    assert report.steps_planned == 6
    assert report.stopped_early
    assert report.epochs_done == pytest.approx(0.5)
    assert TextEncoder(report.out_dir, device="cpu").dim == 32


def test_the_torch_rng_of_the_caller_is_left_alone(
    tmp_path: Path, tiny_bert: Path, synthetic_pairs: tuple[Positives, HardNegatives]
) -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    one_step = FinetuneConfig(epochs=1, batch_size=4, max_minutes=1e-6 / 60)
    tiny_run(tiny_bert, synthetic_pairs, tmp_path / "rng", one_step)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    ("positives", "message"),
    [
        ([], "no positive pairs"),
        ("a b", "no positive pairs"),
        ([("same title", "same title"), ("a", "b")], "at least 2 distinct positive pairs"),
        ([("a", "b"), ("a", "b"), ("b", "a")], "at least 2 distinct positive pairs"),
        ([("a", "b"), ("c",)], r"positives\[1\] must be a \(text, text\) pair"),
        ([("a", "b"), ("c", "  ")], r"positives\[1\] right text must be a non-blank string"),
        ([("a", "b"), (None, "d")], r"positives\[1\] left text must be a non-blank string"),
    ],
)
def test_bad_positives_are_refused_before_any_model_loads(
    tmp_path: Path, positives: Sequence[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        finetune_text_encoder(None, positives, None, tmp_path / "out", FinetuneConfig(), progress=False, device="cpu")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("hard_negatives", "message"),
    [
        ({"a": "c"}, "must be a sequence of texts, not a single str"),
        ({"a": ["c", ""]}, "expected non-blank strings"),
    ],
)
def test_bad_hard_negatives_are_refused(hard_negatives: Mapping[str, Sequence[str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        prepare_pairs([("a", "b"), ("c", "d")], hard_negatives)


@pytest.mark.parametrize(
    "changes",
    [{"epochs": 0}, {"batch_size": 1}, {"temperature": 0.0}, {"max_minutes": 0.0}, {"warmup_ratio": 1.5}],
)
def test_bad_config_is_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid FinetuneConfig"):
        FinetuneConfig(**changes)  # type: ignore[arg-type]


def test_an_occupied_out_dir_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("someone else's file")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        finetune_text_encoder(None, [("a", "b"), ("c", "d")], None, tmp_path, FinetuneConfig(), progress=False)
    assert (tmp_path / "keep.txt").read_text() == "someone else's file"


def test_products_joined_by_positives_never_serve_as_each_others_negatives() -> None:
    # a=b and b=c make a, b, c one product, so "c" cannot be a hard negative of "a".
    data = prepare_pairs([("a", "b"), ("b", "c"), ("x", "y")], {"a": ["c", "x", "z"], "unknown": ["a"]})
    index = {text: i for i, text in enumerate(data.texts)}
    assert data.products[index["a"]] == data.products[index["c"]] != data.products[index["x"]]
    assert sorted(data.texts[i] for i in data.negatives[index["a"]]) == ["x", "z"]
    assert data.counts["hard_negatives_conflicting_dropped"] == 1
    assert data.counts["products"] == 2


def test_masked_candidates_are_as_if_absent() -> None:
    generator = torch.Generator().manual_seed(0)
    anchors, candidates = (F.normalize(torch.randn(n, 16, generator=generator), dim=1) for n in (4, 7))
    same_product = torch.zeros(4, 7, dtype=torch.bool)
    same_product[1, 5] = True
    same_product[2, 2] = True  # the positive itself: ignored, a positive is always kept
    masked = contrastive_loss(anchors, candidates, temperature=0.05, same_product=same_product)
    logits = anchors @ candidates.T / 0.05
    per_row = [
        -F.log_softmax(logits[row, [c for c in range(7) if not (row == 1 and c == 5)]], dim=0)[row]
        for row in range(4)
    ]
    assert float(masked) == pytest.approx(float(torch.stack(per_row).mean()), rel=1e-6)


def test_loss_and_saved_folder_match_sentence_transformers(tuned: FinetuneReport) -> None:
    """The reference implementation: its MultipleNegativesRankingLoss, and its loader on our folder."""
    st = pytest.importorskip("sentence_transformers")
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    generator = torch.Generator().manual_seed(1)
    anchors, positives, negatives = (F.normalize(torch.randn(6, 32, generator=generator), dim=1) for _ in range(3))
    reference = MultipleNegativesRankingLoss(model=None, scale=1 / TINY_RUN.temperature)  # type: ignore[arg-type]
    expected = reference.compute_loss_from_embeddings([anchors, positives, negatives], None)  # type: ignore[arg-type]
    ours = contrastive_loss(anchors, torch.cat([positives, negatives]), temperature=TINY_RUN.temperature)
    assert float(ours) == pytest.approx(float(expected), rel=1e-6)

    titles = ["HDD 3.5 4TB Seagate IronWolf Pro NAS ST4000NE001", "Apple iPhone 13 128GB Midnight"]
    loaded_by_reference = st.SentenceTransformer(str(tuned.out_dir), device="cpu").encode(titles)
    np.testing.assert_allclose(loaded_by_reference, TextEncoder(tuned.out_dir, device="cpu").encode(titles), atol=1e-5)
