"""PNG charts of an export's statistics (needs matplotlib: ``pip install 'handloop[plots]'``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handloop.errors import MissingExtra
from handloop.feedback.stats import StatsCollector

CHARTS = ("position_bias.png", "worker_answers.png", "time_per_task.png", "agreement.png")


def pyplot() -> Any:
    """matplotlib's pyplot, drawing to files; MissingExtra without handloop[plots]."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingExtra("plots", "--plots") from None
    return plt


def write_plots(stats: StatsCollector, folder: Path) -> list[Path]:
    """Write the charts into ``folder`` (created if needed); returns their paths."""
    plt = pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    summary = stats.summary()
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        path = folder / name
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)

    bias = summary["position_bias"]
    fig, ax = plt.subplots(figsize=(6, 4))
    positions = list(bias["best_rate_by_position"])
    rates = [bias["best_rate_by_position"][p] or 0.0 for p in positions]
    ax.bar(positions, rates, color="#4c72b0")
    if bias["expected_without_bias"] is not None:
        ax.axhline(bias["expected_without_bias"], color="#c44e52", linestyle="--", label="no bias")
        ax.legend()
    ax.set_xlabel("position shown")
    ax.set_ylabel("share ranked best")
    ax.set_title("Position bias: how often each shown position wins")
    save(fig, CHARTS[0])

    workers = summary["workers"]
    top = sorted(workers.items(), key=lambda kv: -kv[1]["answers"])[:30]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.3 * len(top) + 1)))
    names = [w[:24] for w, _ in top]
    ax.barh(names, [f["answers"] - f["invalid"] for _, f in top], label="valid", color="#55a868")
    ax.barh(
        names,
        [f["invalid"] for _, f in top],
        left=[f["answers"] - f["invalid"] for _, f in top],
        label="invalid",
        color="#c44e52",
    )
    ax.invert_yaxis()
    ax.set_xlabel("answers")
    ax.set_title("Answers per worker (top 30)")
    ax.legend()
    save(fig, CHARTS[1])

    fig, ax = plt.subplots(figsize=(6, 4))
    seconds = [s for values in stats.worker_seconds().values() for s in values]
    if seconds:
        ax.hist(seconds, bins=40, color="#8172b2")
    ax.set_xlabel("seconds per task (timeSpentInSeconds)")
    ax.set_ylabel("answers")
    ax.set_title("Time per task")
    save(fig, CHARTS[2])

    fig, ax = plt.subplots(figsize=(6, 4))
    labels = ["Krippendorff alpha\n(ordinal)", "pairwise\nagreement", "tie rate"]
    values = [
        summary["krippendorff_alpha_ordinal"],
        summary["pairwise_agreement"],
        summary["tie_rate"],
    ]
    ax.bar(labels, [v or 0.0 for v in values], color=["#4c72b0", "#55a868", "#dd8452"])
    for x, v in enumerate(values):
        ax.text(x, (v or 0.0) + 0.02, "n/a" if v is None else f"{v:.3f}", ha="center")
    ax.set_ylim(min(0.0, *(v or 0.0 for v in values)), 1.1)
    ax.set_title("Agreement")
    save(fig, CHARTS[3])
    return written
