"""`handloop export`: human answers -> preference datasets, statistics and charts."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from handloop.cli.options import TEXT, data_dir_option, database_url_option, load_settings
from handloop.domain.timestamps import from_datetime

# The same names as handloop.feedback.formats.FORMATS (a test keeps them equal); spelt out
# here so that loading the CLI does not import pyarrow and numpy.
FORMATS = ("trl", "reward", "notebook", "notebook-ranking", "sft", "tidy")

_TIMES = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"]


class ExportFailed(click.ClickException):
    """Wrong input: one line on stderr, exit status 2."""

    exit_code = 2


class _Bar:
    """A click progress bar on stderr, shown only on a terminal."""

    def __init__(self) -> None:
        self.bar: Any = None

    def start(self, total: int) -> None:
        self.bar = click.progressbar(length=total, label="Reading outputs", file=sys.stderr)
        self.bar.__enter__()

    def advance(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("export")
@click.argument("source")
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write: PATH.parquet, PATH.jsonl, or any other path for a DatasetDict folder.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="trl",
    show_default=True,
    help="Row shape: TRL preference pairs, reward labels, the notebook's pair or ranking "
    "shape, SFT rows from response edits, or the tidy answer table.",
)
@click.option(
    "--mapping",
    default="auto",
    show_default=True,
    help="How answers rank responses: auto (handloop's preference elements need no mapping; "
    "other loops are read as notebook), notebook, preference, classifier, text-ranking, a "
    "JSON file, or inline JSON (see docs/export.md).",
)
@click.option(
    "--metric",
    type=TEXT,
    default=None,
    help="Bedrock evaluation results only: the comparison metric whose answers give the pairs "
    "(default: the job's first comparison metric).",
)
@click.option(
    "--pairs",
    type=click.Choice(["per-annotator", "aggregated"]),
    default="per-annotator",
    show_default=True,
    help="One pair per annotator, or one aggregated pair per response pair.",
)
@click.option(
    "--aggregate",
    type=click.Choice(["mean-rank", "bradley-terry"]),
    default="mean-rank",
    show_default=True,
    help="How --pairs aggregated combines annotators.",
)
@click.option(
    "--min-trust",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="flow:NAME only: leave out the answers of workers whose trust on the flow is below "
    "this (0 to 1), and of workers paused there (see docs/quality.md).",
)
@click.option(
    "--weights",
    type=click.Choice(["none", "trust"]),
    default="none",
    show_default=True,
    help="flow:NAME only: trust weighs each annotator by their trust on the flow (aggregated "
    "pairs and Bradley-Terry), or adds a weight column to per-annotator rows.",
)
@click.option(
    "--ties",
    type=click.Choice(["drop", "keep"]),
    default="drop",
    show_default=True,
    help="Equal ranks give no pair (drop) or a row marked tie=true (keep).",
)
@click.option(
    "--reward-labels",
    type=click.Choice(["1/0", "1/-1"]),
    default="1/0",
    show_default=True,
    help="Reward values of chosen/rejected for --format reward and notebook.",
)
@click.option(
    "--conversational",
    is_flag=True,
    help="Write prompt/chosen/rejected as message lists ({role, content}).",
)
@click.option(
    "--test-size",
    type=click.FloatRange(0.0, 1.0),
    default=0.1,
    show_default=True,
    help="Share of prompts in the test split (DatasetDict only; split by prompt).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split.")
@click.option(
    "--stats", "show_stats", is_flag=True, help="Print agreement, bias and worker figures."
)
@click.option(
    "--stats-json",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the statistics as JSON to this file.",
)
@click.option(
    "--plots",
    "plots_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write PNG charts of the statistics into this folder (needs handloop[plots]).",
)
@click.option(
    "--status",
    "statuses",
    type=TEXT,
    multiple=True,
    default=["Completed"],
    show_default=True,
    help="flow:NAME only: loop statuses to export (repeatable; 'any' for all).",
)
@click.option(
    "--created-after",
    type=click.DateTime(_TIMES),
    default=None,
    help="flow:NAME only: loops created at or after this time (UTC unless it has an offset).",
)
@click.option(
    "--created-before",
    type=click.DateTime(_TIMES),
    default=None,
    help="flow:NAME only: loops created before this time.",
)
@data_dir_option
@database_url_option
@click.option(
    "--endpoint-url",
    type=TEXT,
    default=None,
    help="s3:// sources only: an S3-compatible endpoint (default: AWS, per the usual AWS "
    "environment and config).",
)
@click.option(
    "--skip-invalid-files",
    is_flag=True,
    help="Count and skip files that are not A2I outputs instead of stopping.",
)
@click.option(
    "--jobs",
    type=click.IntRange(0, 64),
    default=0,
    help="Worker processes that parse output files (default 0: one per CPU, up to 8; "
    "s3:// sources read in one process).",
)
@click.option("--overwrite", is_flag=True, help="Replace PATH if it exists.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary line.")
def export(
    source: str,
    target: Path,
    fmt: str,
    mapping: str,
    metric: str | None,
    pairs: str,
    aggregate: str,
    min_trust: float | None,
    weights: str,
    ties: str,
    reward_labels: str,
    conversational: bool,
    test_size: float,
    seed: int,
    show_stats: bool,
    stats_json: Path | None,
    plots_dir: Path | None,
    statuses: tuple[str, ...],
    created_after: datetime | None,
    created_before: datetime | None,
    data_dir: Path | None,
    database_url: str | None,
    endpoint_url: str | None,
    skip_invalid_files: bool,
    jobs: int,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Turn human answers into a training dataset.

    SOURCE is flow:NAME (the handloop store), a folder of A2I output.json files, or
    s3://bucket/prefix; a folder or prefix of Bedrock evaluation results (*_output.jsonl)
    gives pairs from one comparison metric (--metric). Wrong input is one line on stderr
    and exit status 2.

    \b
    Examples:
      handloop export flow:llm-ranking --to prefs --stats
      handloop export ./outputs --to pairs.parquet --pairs aggregated --aggregate bradley-terry
      handloop export s3://bucket/a2i-output --to pairs.jsonl --format reward --reward-labels 1/-1
      handloop export ./evals/my-job --to pairs.jsonl --metric Helpfulness
    """
    from handloop.feedback.evaluation_export import EvaluationOutputSource, evaluation_mapping
    from handloop.feedback.export import ExportOptions, needs_flow_message, run_export
    from handloop.feedback.mappings import load_mapping
    from handloop.feedback.output_files import printable
    from handloop.feedback.problems import ExportInputError
    from handloop.feedback.sources import open_source
    from handloop.feedback.stats import format_table

    if plots_dir is not None:
        from handloop.feedback.plots import pyplot

        pyplot()  # without handloop[plots], say so before the export, not after
    options = ExportOptions(
        format=fmt,  # type: ignore[arg-type]
        pairs=pairs,  # type: ignore[arg-type]
        aggregate=aggregate,  # type: ignore[arg-type]
        min_trust=min_trust,
        weights=weights,  # type: ignore[arg-type]
        ties=ties,  # type: ignore[arg-type]
        reward_labels=reward_labels,  # type: ignore[arg-type]
        conversational=conversational,
        test_size=test_size,
        seed=seed,
        skip_invalid_files=skip_invalid_files,
        overwrite=overwrite,
        jobs=jobs or min(os.cpu_count() or 1, 8),
    )
    if options.uses_standing and not source.startswith("flow:"):
        # Said before a folder is walked or a bucket listed: only the store knows trust.
        raise ExportFailed(needs_flow_message(options, printable(source)))
    bar = _Bar() if not quiet and sys.stderr.isatty() else None
    opened: Any = None
    evaluation: EvaluationOutputSource | None = None
    try:
        chosen_mapping = load_mapping(mapping)
        settings = (
            load_settings(data_dir=data_dir, database_url=database_url)
            if source.startswith("flow:")
            else None
        )
        opened = open_source(
            source,
            settings=settings,
            statuses=statuses,
            created_after_us=from_datetime(created_after) if created_after else None,
            created_before_us=from_datetime(created_before) if created_before else None,
            endpoint_url=endpoint_url,
            metric=metric,
        )
        evaluation = opened if isinstance(opened, EvaluationOutputSource) else None
        if evaluation is not None:
            chosen_mapping = evaluation_mapping(chosen_mapping, evaluation)
        try:
            result = run_export(opened, chosen_mapping, target, options, progress=bar)
        finally:
            if bar is not None:
                bar.finish()
        summary = result.stats.summary()
        if stats_json is not None:
            stats_json.write_text(json.dumps(summary, indent=2) + "\n")
        if plots_dir is not None:
            from handloop.feedback.plots import write_plots

            write_plots(result.stats, plots_dir)
    except ExportInputError as exc:
        raise ExportFailed(exc.message) from None
    except OSError as exc:
        raise ExportFailed(str(exc)) from None
    finally:
        if opened is not None and hasattr(opened, "close"):
            opened.close()
    if show_stats:
        click.echo(format_table(summary))
    if not quiet:
        for reason in result.invalid_files:
            click.echo(f"skipped {reason}", err=True)
        unlisted = result.invalid_file_count - len(result.invalid_files)
        if unlisted > 0:
            click.echo(f"skipped {unlisted} more invalid file(s)", err=True)
        invalid = summary["answers"] - summary["valid_answers"]
        rows = ", ".join(f"{k} {v}" for k, v in result.rows.items() if v)
        skipped = (
            f", {result.invalid_file_count} invalid {'line' if evaluation else 'file'}(s) skipped"
            if result.invalid_file_count
            else ""
        )
        dropped = f"; dropped {result.dropped.describe(min_trust)}" if min_trust is not None else ""
        read = f"{result.outputs} output file(s)"
        if evaluation is not None:
            how = "the first comparison metric" if evaluation.defaulted else "--metric"
            read = (
                f"{result.outputs} evaluation record(s), metric {evaluation.metric.name} "
                f"({evaluation.metric.method}; {how})"
            )
        click.echo(
            f"Wrote {result.total_rows} rows ({rows}) to {target} from {read}; "
            f"{invalid} invalid answer(s){skipped}{dropped}.",
            err=True,
        )


COMMANDS = [export]
