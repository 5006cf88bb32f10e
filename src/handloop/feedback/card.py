"""The dataset card (README.md) that goes with an exported dataset."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from handloop import __version__

if TYPE_CHECKING:
    from handloop.feedback.export_result import ExportResult
    from handloop.feedback.mappings import Mapping
    from handloop.feedback.options import ExportOptions
    from handloop.feedback.sources import OutputSource


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
        "## Sources",
        "",
    ]
    for arn, count in sorted(summary["flow_definitions"].items()):
        lines.append(f"- flow definition `{arn or 'unknown'}`: {count} loops")
    for entry in source.provenance():
        lines.append(f"- {json.dumps(entry, sort_keys=True)}")
    lines.append("")
    return "\n".join(lines)


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
