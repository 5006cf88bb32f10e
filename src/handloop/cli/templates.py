"""`handloop templates render|check`: try worker task templates without a server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from handloop.templating import TemplateRenderError, check_syntax, render_template

TEMPLATE_SUFFIXES = (".html", ".liquid", ".htm")


def _load_input(text: str) -> Any:
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {text[1:]}: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}") from None


@click.group()
def templates() -> None:
    """Worker task templates (Liquid with Ground Truth's rules)."""


@templates.command("render")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--input",
    "input_text",
    default="{}",
    show_default=True,
    help="The task input (task.input) as JSON, or @PATH to read it from a file.",
)
def render(file: Path, input_text: str) -> None:
    """Render FILE with a task input and print the page (s3:// URIs are left as they are)."""
    task_input = _load_input(input_text)
    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read: {exc}") from None
    try:
        click.echo(render_template(source, task_input), nl=False)
    except TemplateRenderError as exc:
        raise click.ClickException(f"{file}: {exc}") from None


def _template_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in TEMPLATE_SUFFIXES)


@templates.command("check")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--inputs",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A JSON object mapping template paths (relative to FOLDER) to a task input; each "
    "such template is also rendered. Default: FOLDER/inputs.json when it exists.",
)
def check(folder: Path, inputs: Path | None) -> None:
    """Report every problem in the templates (*.html, *.liquid) under FOLDER.

    Exits non-zero when any template has a problem.
    """
    inputs = inputs or (folder / "inputs.json" if (folder / "inputs.json").exists() else None)
    samples: dict[str, Any] = _load_input(f"@{inputs}") if inputs else {}
    if not isinstance(samples, dict):
        raise click.BadParameter("the inputs file must hold a JSON object", param_hint="--inputs")
    files = _template_files(folder)
    failed = rendered = 0
    for path in files:
        relative = path.relative_to(folder).as_posix()
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            click.echo(f"{relative}: cannot read: {exc}")
            failed += 1
            continue
        problems = [str(p) for p in check_syntax(source)]
        if not problems and relative in samples:
            rendered += 1
            try:
                render_template(source, samples[relative])
            except TemplateRenderError as exc:
                problems.append(str(exc))
        for problem in problems:
            click.echo(f"{relative}: {problem}")
        failed += bool(problems)
    click.echo(f"{len(files)} templates checked, {rendered} rendered, {failed} with problems")
    if failed:
        raise SystemExit(1)


COMMANDS = [templates]
