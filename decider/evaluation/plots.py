"""Evaluation plots as PNG files: the precision-recall curve and the score histogram per class.

matplotlib is imported when a plot is drawn, so scoring and metrics never load it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from decider.evaluation.metrics import pair_metrics, precision_recall_curve


def write_plots(scores: np.ndarray, labels: np.ndarray, threshold: float, directory: Path, prefix: str) -> list[Path]:
    """A precision-recall curve and a score histogram per class, as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    precision, recall = precision_recall_curve(scores, labels)
    chosen = pair_metrics(scores, labels, threshold)
    figure, axes = plt.subplots(figsize=(5, 4))
    axes.plot(recall, precision, label="decider")
    axes.scatter([chosen.recall], [chosen.precision], color="red", zorder=3, label=f"threshold {threshold:.3f}")
    axes.set(xlabel="recall", ylabel="precision", title=f"{prefix}: precision-recall", xlim=(0, 1), ylim=(0, 1.02))
    axes.legend(loc="lower left")
    curve_path = directory / f"{prefix}-precision-recall.png"
    figure.savefig(curve_path, dpi=110, bbox_inches="tight")
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(5, 4))
    bins = np.linspace(0, 1, 41)
    axes.hist(scores[labels == 0], bins=bins, alpha=0.6, label="different products", log=True)
    axes.hist(scores[labels == 1], bins=bins, alpha=0.6, label="duplicates", log=True)
    axes.axvline(threshold, color="red", linestyle="--", label="threshold")
    axes.set(xlabel="decider score", ylabel="pairs (log)", title=f"{prefix}: score histogram")
    axes.legend()
    histogram_path = directory / f"{prefix}-score-histogram.png"
    figure.savefig(histogram_path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return [curve_path, histogram_path]
