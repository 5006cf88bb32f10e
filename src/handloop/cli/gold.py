"""`handloop gold add|list|remove`: a flow's gold items, tasks whose answers are known.

A flow tagged ``handloop:gold-rate`` serves them among its real tasks, looking exactly like
them, and scores each worker's answers against the accepted ones (docs/quality.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from handloop.cli.options import TEXT, UsageFailure, data_dir_option, database_url_option
from handloop.cli.workers import opened, run_async
from handloop.domain.timestamps import to_datetime
from handloop.errors import ValidationError
from handloop.services.quality import GoldItem, settings_of

# How much of a gold item's input `gold list` shows on its line.
INPUT_PREVIEW_CHARS = 72


@click.group()
def gold() -> None:
    """Gold items: tasks with known answers, served among a flow's real tasks to measure
    each worker (flow tag handloop:gold-rate; see docs/quality.md)."""


@gold.command()
@data_dir_option
@database_url_option
@click.argument("flow", type=TEXT)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
def add(data_dir: Path | None, database_url: str | None, flow: str, file: Path) -> None:
    """Load gold items for FLOW from FILE (JSON Lines; - reads standard input).

    Each line is one item: {"input": {...the InputContent...}, "answer": {...the expected
    answerContent...}}, or "answers": [...] where several answers are right. An item whose
    input is already there gets the new answers. A bad line is an error naming it, and then
    nothing is added.
    """
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise UsageFailure(f"cannot read {file}: {exc.strerror or exc}") from None
    with opened(data_dir, database_url) as services:
        definition = run_async(services, lambda: services.flow_definitions.get(flow))

        async def load() -> tuple[int, int]:
            try:
                return await services.quality.add_gold(flow, data)
            except ValidationError as exc:
                # A bad line is the user's input, as a bad option is: exit status 2.
                raise UsageFailure(exc.message) from None

        added, updated = run_async(services, load)
    click.echo(f"added {added}, updated {updated} gold item(s) on {flow}")
    if settings_of(definition.config).gold_rate <= 0:
        click.echo(
            f"Note: {flow} has no handloop:gold-rate tag, so its gold items are not served "
            "(see docs/quality.md).",
            err=True,
        )


def _item_json(item: GoldItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "input": item.input,
        "answers": item.answers,
        "answered": item.served,
        "mean_score": None if item.mean_score is None else round(item.mean_score, 4),
        "created": to_datetime(item.created_us).isoformat(),
    }


def _preview(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(text.split())  # one line, whatever the input's strings hold
    if len(text) <= INPUT_PREVIEW_CHARS:
        return text
    return text[: INPUT_PREVIEW_CHARS - 1] + "…"


@gold.command("list")
@data_dir_option
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array, items in full.")
@click.argument("flow", type=TEXT)
def list_(data_dir: Path | None, database_url: str | None, as_json: bool, flow: str) -> None:
    """List FLOW's gold items: id, how many answers it got, their mean score, the input."""
    with opened(data_dir, database_url) as services:
        items = run_async(services, lambda: services.quality.list_gold(flow))
    if as_json:
        click.echo(json.dumps([_item_json(item) for item in items], indent=2, ensure_ascii=False))
        return
    for item in items:
        mean = "-" if item.mean_score is None else f"{item.mean_score:.2f}"
        click.echo(f"{item.id}\tanswered {item.served}\tmean {mean}\t{_preview(item.input)}")
    if not items:
        click.echo(
            f"No gold items on {flow}: add some with `handloop gold add {flow} FILE.jsonl`.",
            err=True,
        )


@gold.command()
@data_dir_option
@database_url_option
@click.option("--id", "item_id", type=click.IntRange(min=1), default=None, help="The item's id.")
@click.option("--all", "all_", is_flag=True, help="Every gold item of FLOW.")
@click.argument("flow", type=TEXT)
def remove(
    data_dir: Path | None, database_url: str | None, item_id: int | None, all_: bool, flow: str
) -> None:
    """Remove one gold item of FLOW (--id, as `gold list` shows it) or all of them (--all).
    Scores workers already earned on them stay in their figures."""
    if (item_id is None) == (not all_):
        raise UsageFailure("give --id N or --all (one of them)")
    with opened(data_dir, database_url) as services:
        removed = run_async(services, lambda: services.quality.remove_gold(flow, item_id))
    if item_id is not None and not removed:
        raise click.ClickException(f"No gold item {item_id} on {flow}.")
    click.echo(f"Removed {removed} gold item(s) from {flow}.")


COMMANDS = [gold]
