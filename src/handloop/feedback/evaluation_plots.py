"""PNG charts of an evaluation report, one or two per metric (needs handloop[plots]).

Drawn from the report dict alone, so a stored ``report.json`` can be charted again:

- IndividualLikertScale: each model's mean rating with its 95% t interval;
- ThumbsUpDown: each model's share of thumbs up with its Wilson interval;
- comparisons: each model's win rate with its Wilson interval, and a second chart of the
  Bradley–Terry scores with their bootstrap intervals.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from handloop.feedback.evaluation_files import INDIVIDUAL_LIKERT, THUMBS
from handloop.feedback.plots import pyplot


def chart_names(report: dict[str, Any]) -> list[str]:
    """The files ``write_report_plots`` writes for this report, in order."""
    names: list[str] = []
    for number, metric in enumerate(report["metrics"], 1):
        stem = f"{number:02d}-{_slug(metric['name'])}"
        names.append(f"{stem}.png")
        if metric.get("bradley_terry"):
            names.append(f"{stem}-bradley-terry.png")
    return names


def write_report_plots(report: dict[str, Any], folder: Path) -> list[Path]:
    """Write the charts into ``folder`` (created if needed); their paths."""
    plt = pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        path = folder / name
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)

    for number, metric in enumerate(report["metrics"], 1):
        stem = f"{number:02d}-{_slug(metric['name'])}"
        models = metric["models"]
        if metric["type"] == INDIVIDUAL_LIKERT:
            values = {m: (f["mean"], f["mean_ci95"]) for m, f in models.items()}
            label, limits = "mean rating (1..5), 95% t interval", (1.0, 5.0)
        elif metric["type"] == THUMBS:
            values = {m: (f["up_rate"], f["up_rate_ci95"]) for m, f in models.items()}
            label, limits = "share of thumbs up, 95% Wilson interval", (0.0, 1.0)
        else:
            values = {m: (f["win_rate"], f["win_rate_ci95"]) for m, f in models.items()}
            label, limits = "win rate (no ties), 95% Wilson interval", (0.0, 1.0)
        fig = _bars(plt, values, label, f"{metric['name']} ({metric['type']})", limits)
        if metric["type"] not in (INDIVIDUAL_LIKERT, THUMBS):
            fig.axes[0].axhline(0.5, color="#c44e52", linestyle="--", linewidth=1)
        save(fig, f"{stem}.png")
        bt = metric.get("bradley_terry")
        if bt:
            scores = {m: (s["score"], s["ci95"]) for m, s in bt["scores"].items()}
            fig = _bars(
                plt,
                scores,
                "log-strength, 95% bootstrap interval",
                f"{metric['name']}: Bradley–Terry ({bt['resamples']} resamples)",
                None,
            )
            fig.axes[0].axhline(0.0, color="#555555", linewidth=1)
            save(fig, f"{stem}-bradley-terry.png")
    return written


def _bars(
    plt: Any,
    values: dict[str, tuple[float | None, list[float] | None]],
    label: str,
    title: str,
    limits: tuple[float, float] | None,
) -> Any:
    """One bar per model with its interval as an error bar (none where undefined)."""
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(values) + 2.0), 4))
    names = [m[:24] for m in values]
    heights = [v if v is not None else 0.0 for v, _ in values.values()]
    below = [v - ci[0] if v is not None and ci else 0.0 for v, ci in values.values()]
    above = [ci[1] - v if v is not None and ci else 0.0 for v, ci in values.values()]
    bottom = limits[0] if limits else 0.0
    ax.bar(
        names,
        [h - bottom for h in heights],
        bottom=bottom,
        yerr=[below, above],
        capsize=6,
        color="#4c72b0",
    )
    if limits:
        ax.set_ylim(*limits)
    ax.set_ylabel(label)
    ax.set_title(title)
    return fig


def _slug(name: str) -> str:
    slug = re.sub(r"[^0-9A-Za-z._-]+", "-", name).strip("-.")
    return slug[:60] or "metric"
