"""`handloop evaluation`: reports on Bedrock-style model-evaluation jobs' results."""

from __future__ import annotations

import re
from pathlib import Path

import click

from handloop.cli.options import TEXT, data_dir_option, database_url_option, load_settings
from handloop.errors import HandloopError

_JOB_NAME = re.compile(r"^[a-z0-9](-*[a-z0-9]){0,62}$")
_JOB_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d{12}:evaluation-job/([a-z0-9]{12})$")


def job_results(text: str, data_dir: Path | None, database_url: str | None) -> str | None:
    """The results folder of the evaluation job SOURCE names (its name or ARN) in this
    deployment's store: a local path (the folder store) or an s3:// prefix (an S3 store).
    None when SOURCE is a path that exists or names no job; ReportFailed for a job whose
    results are not written (yet)."""
    arn = _JOB_ARN.match(text)
    if arn is None and (Path(text).exists() or not _JOB_NAME.match(text)):
        return None
    from sqlalchemy import or_, select

    from handloop.domain.output_layout import split_s3_uri
    from handloop.services import open_services
    from handloop.store.tables import evaluation_jobs

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    if not (settings.data_dir.exists() or database_url or settings.database_url):
        return None
    try:
        services = open_services(settings, create=False)
    except HandloopError:
        return None  # no deployment here: SOURCE is taken as a path
    try:
        with services.db.read_engine.connect() as conn:
            row = conn.execute(
                select(
                    evaluation_jobs.c.name, evaluation_jobs.c.status, evaluation_jobs.c.results
                ).where(
                    or_(
                        evaluation_jobs.c.name == text,
                        evaluation_jobs.c.job_id == (arn.group(1) if arn else ""),
                    )
                )
            ).first()
    finally:
        services.close()
    if row is None:
        return None
    if not row.results:
        raise ReportFailed(
            f"evaluation job {row.name} is {row.status}: its results are written when it "
            "completes (GetEvaluationJob says when)"
        )
    folder: str = row.results["folder"]
    if settings.output_store == "s3":
        return folder
    bucket, key = split_s3_uri(folder)
    return str(settings.data_dir / "s3" / bucket / key)


class ReportFailed(click.ClickException):
    """Wrong input: one line on stderr, exit status 2 (as `handloop export`)."""

    exit_code = 2


@click.group("evaluation")
def evaluation() -> None:
    """Model-evaluation jobs (Amazon Bedrock style): their results as a report.

    See docs/evaluation.md.
    """


@evaluation.command("report")
@click.argument("source")
@data_dir_option
@database_url_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the report as JSON (the report.json a job writes) instead of tables.",
)
@click.option(
    "--plots",
    "plots_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write PNG charts per metric into this folder (needs handloop[plots]).",
)
@click.option(
    "--endpoint-url",
    type=TEXT,
    default=None,
    help="s3:// sources only: an S3-compatible endpoint (default: AWS, per the usual AWS "
    "environment and config).",
)
@click.option(
    "--skip-invalid-lines",
    is_flag=True,
    help="Count and skip lines that are not evaluation records (and unreadable files) "
    "instead of stopping.",
)
def report(
    source: str,
    data_dir: Path | None,
    database_url: str | None,
    as_json: bool,
    plots_dir: Path | None,
    endpoint_url: str | None,
    skip_invalid_lines: bool,
) -> None:
    """Per metric and model: ratings, win rates, Bradley–Terry scores, position bias and
    agreement, with 95% intervals.

    SOURCE is a job's name or ARN (its results in this deployment's store), or a folder,
    a file, or s3://bucket/prefix holding results files (*_output.jsonl, at any depth:
    <s3OutputPath>/<job-name>/<job-id>/datasets/...).
    Nothing is written unless --plots asks for charts.

    \b
    Examples:
      handloop evaluation report my-job
      handloop evaluation report ./data/s3/evals/my-job/
      handloop evaluation report s3://evals/my-job/ --endpoint-url http://localhost:8080 --json
      handloop evaluation report ./results --plots charts
    """
    from handloop.feedback.evaluation_files import read_records
    from handloop.feedback.evaluation_report import build_report, format_report, report_json
    from handloop.feedback.problems import ExportInputError
    from handloop.feedback.sources import open_results

    if plots_dir is not None:
        from handloop.feedback.plots import pyplot

        pyplot()  # without handloop[plots], say so before reading anything
    try:
        where = job_results(source, data_dir, database_url) or source
        files = open_results(where, endpoint_url=endpoint_url)
        read = read_records(files, skip_invalid=skip_invalid_lines)
        built = build_report(read.records)
        if plots_dir is not None:
            from handloop.feedback.evaluation_plots import write_report_plots

            write_report_plots(built, plots_dir)
    except ExportInputError as exc:
        raise ReportFailed(exc.message) from None
    except OSError as exc:
        raise ReportFailed(str(exc)) from None
    for message in read.invalid_lines:
        click.echo(f"skipped {message}", err=True)
    unlisted = read.invalid_line_count - len(read.invalid_lines)
    if unlisted > 0:
        click.echo(f"skipped {unlisted} more invalid line(s)", err=True)
    if as_json:
        click.echo(report_json(built), nl=False)
    else:
        click.echo(format_report(built))


COMMANDS = [evaluation]
