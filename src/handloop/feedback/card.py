"""The dataset card (README.md) that goes with an exported dataset."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from handloop import __version__
from handloop.feedback.standing import BELOW_MIN_TRUST, PAUSED

if TYPE_CHECKING:
    from handloop.feedback.export_result import ExportResult
    from handloop.feedback.mappings import Mapping
    from handloop.feedback.options import ExportOptions
    from handloop.feedback.sources import OutputSource
    from handloop.services.exports import FlowQuality


def dataset_card(
    result: ExportResult, mapping: Mapping, options: ExportOptions, source: OutputSource
) -> str:
    summary = result.stats.summary()
    bias = summary["position_bias"]

    def show(value: Any) -> str:
        return "n/a" if value is None else str(value)

    lines = [
        "---",
        "tags:",
        "- handloop",
        "- human-feedback",
        "- preference",
        "---",
        "",
        "# Human preference data exported by handloop",
        "",
        f"Exported {datetime.now(UTC).isoformat(timespec='seconds')} by handloop {__version__} "
        f"from `{source.description}`.",
        "",
        "## Shape",
        "",
        f"- format: `{options.format}`"
        + (" (conversational message lists)" if options.conversational else ""),
        f"- pairs: `{options.pairs}`"
        + (f" by `{options.aggregate}`" if options.pairs == "aggregated" else ""),
        f"- ties: `{options.ties}`",
        _mapping_line(mapping),
        f"- split by prompt: test share {options.test_size}, seed {options.seed}; "
        "no prompt is in both splits",
        "",
        "| split | rows |",
        "|---|---|",
        *(f"| {split} | {count} |" for split, count in result.rows.items()),
        "",
        "## Columns",
        "",
        *(f"- `{f.name}`: {f.type}" for f in _schema(options)),
        "",
        "See handloop's docs/export.md for what each column means.",
        "",
        "## Counts",
        "",
        f"- output files read: {result.outputs}",
        f"- invalid files skipped: {result.invalid_file_count}",
        f"- loops: {summary['items']} (unusable: {sum(summary['unusable_items'].values())})",
        f"- answers: {summary['answers']}, valid: {summary['valid_answers']}"
        + (f" (response edits: {summary['edit_answers']})" if summary["edit_answers"] else ""),
    ]
    for reason, count in sorted(summary["invalid_answers"].items()):
        lines.append(f"  - invalid, {reason}: {count}")
    for reason, count in sorted(summary["unusable_items"].items()):
        lines.append(f"  - unusable loop, {reason}: {count}")
    lines += [
        f"- workers: {len(summary['workers'])}",
        "",
        "## Agreement and bias",
        "",
        f"- Krippendorff's alpha (ordinal): {show(summary['krippendorff_alpha_ordinal'])}",
        f"- pairwise agreement rate: {show(summary['pairwise_agreement'])} "
        f"({summary['annotator_pairs_compared']} annotator-pair comparisons)",
        f"- tie rate: {show(summary['tie_rate'])}",
        f"- first-shown response ranked best: {show(bias['first_shown_best_rate'])} "
        f"(expected without bias: {show(bias['expected_without_bias'])})",
        f"- first-shown response wins its pairs: {show(bias['first_shown_pair_win_rate'])} "
        "(expected without bias: 0.5)",
        "",
        *_quality_lines(result, options, source),
        "## Sources",
        "",
    ]
    for arn, count in sorted(summary["flow_definitions"].items()):
        lines.append(f"- flow definition `{arn or 'unknown'}`: {count} loops")
    for entry in source.provenance():
        lines.append(f"- {json.dumps(entry, sort_keys=True)}")
    lines.append("")
    return "\n".join(lines)


def _quality_lines(result: ExportResult, options: ExportOptions, source: OutputSource) -> list[str]:
    """The flow's quality control, for flow sources of flows with quality settings (or
    whenever --min-trust or --weights trust shaped the data): settings, gold accuracy,
    answers dropped and why, and the overlap the loops got. Gold figures are the workers'
    records' sums: gold items and their answers are never part of the data."""
    read = getattr(source, "quality", None)
    quality: FlowQuality | None = read() if read is not None else None
    if not (quality is not None and quality.enabled) and not options.uses_standing:
        return []
    lines = ["## Quality control", ""]
    if quality is not None:
        lines += _workers_lines(quality)
    if options.min_trust is None:
        lines.append("- answers dropped: none (no `--min-trust`)")
    else:
        dropped = result.dropped
        lines.append(f"- answers dropped by `--min-trust {options.min_trust}`: {dropped.total}")
        for reason, why in (
            (BELOW_MIN_TRUST, f"trust below {options.min_trust}"),
            (PAUSED, "worker paused on the flow"),
        ):
            who = len(dropped.workers.get(reason, ()))
            lines.append(f"  - {why}: {dropped.answers[reason]} answer(s) of {who} worker(s)")
    if options.weights == "trust":
        how = (
            "each annotator counts by their trust"
            if options.pairs == "aggregated"
            else "the `weight` column is each row's worker's trust"
        )
        lines.append(f"- weights: `trust` ({how})")
    if quality is not None:
        lines += _overlap_lines(quality)
    lines.append("")
    return lines


def _workers_lines(quality: FlowQuality) -> list[str]:
    """The flow's settings, its workers (paused ones), and their gold accuracy."""
    lines: list[str] = []
    settings = quality.settings
    if settings is not None and settings.enabled:
        shown = [f"gold-rate {settings.gold_rate}"] if settings.gold_rate else []
        if settings.max_task_count is not None:
            shown.append(f"max-task-count {settings.max_task_count}")
        if settings.agreement is not None:
            shown.append(f"agreement {settings.agreement}")
        if settings.min_trust is not None:
            shown.append(f"min-trust {settings.min_trust}")
        shown.append(f"min-evidence {settings.min_evidence}")
        lines.append(f"- flow settings (handloop: tags): {', '.join(shown)}")
    workers = quality.workers
    paused = sum(1 for w in workers if w.paused)
    lines.append(f"- workers with a record on the flow: {len(workers)} (paused: {paused})")
    gold = sum(w.gold_answers for w in workers)
    if gold:
        mean = sum(w.gold_score_sum for w in workers) / gold
        with_gold = sum(1 for w in workers if w.gold_answers)
        lines.append(
            f"- gold accuracy: mean score {mean:.4f} over {gold} gold answers from "
            f"{with_gold} workers (gold items are never in the data)"
        )
    else:
        lines.append("- gold accuracy: n/a (no gold answers)")
    return lines


def _overlap_lines(quality: FlowQuality) -> list[str]:
    """Why the selected loops stopped, and a histogram of their answers per loop."""
    loops = sum(o.loops for o in quality.overlap)
    by_count: dict[int, int] = {}
    reasons = {"agreement": 0, "cap": 0, "none": 0}
    rounds = 0
    for o in quality.overlap:
        by_count[o.task_count] = by_count.get(o.task_count, 0) + o.loops
        reasons[o.stop_reason if o.stop_reason in ("agreement", "cap") else "none"] += o.loops
        rounds += o.rounds
    lines = [
        f"- overlap of the {loops} loops selected: stopped at agreement "
        f"{reasons['agreement']}, at the cap {reasons['cap']}, without a stop reason "
        f"{reasons['none']}; extra answers asked: {rounds} (a loop without a stop reason had "
        "no adaptive overlap, or is not finished)",
        "",
        "| answers per loop | loops |",
        "|---|---|",
    ]
    lines += [f"| {count} | {n} |" for count, n in sorted(by_count.items())]
    return lines


def _mapping_line(mapping: Mapping) -> str:
    if mapping.kind == "auto":
        return (
            "- mapping: `auto` (loops with preference-element answers read as `preference`, "
            "the others as `notebook`)"
        )
    return (
        f"- mapping: `{mapping.name}` (kind `{mapping.kind}`, prompt `{mapping.prompt}`, "
        f"responses `{mapping.responses}`, field `{mapping.field}`)"
    )


def _schema(options: ExportOptions) -> Any:
    from handloop.feedback.tidy import TIDY_SCHEMA

    return TIDY_SCHEMA if options.format == "tidy" else options.shape.schema()
