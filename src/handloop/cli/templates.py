"""`handloop templates render|check`: try worker task templates without a server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from handloop.domain.json_values import parse
from handloop.errors import ValidationError
from handloop.templating import TemplateRenderError, check_syntax, render_template

TEMPLATE_SUFFIXES = (".html", ".liquid", ".htm")


def _load_input(text: str, option: str) -> Any:
    """A task input: JSON given inline, or ``@PATH`` to read it from a file; held to the same
    rules as an input that arrives through the API (json_values)."""
    data: str | bytes = text
    what = "the input"
    if text.startswith("@"):
        path = Path(text[1:])
        what = click.format_filename(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise click.BadParameter(
                f"cannot read {what}: {exc.strerror}", param_hint=option
            ) from None
    try:
        return parse(data, what)
    except ValidationError as exc:
        raise click.BadParameter(exc.message, param_hint=option) from None


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
    task_input = _load_input(input_text, "--input")
    try:
        source = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{click.format_filename(file)}: cannot read: {exc}") from None
    try:
        click.echo(render_template(source, task_input), nl=False)
    except TemplateRenderError as exc:
        raise click.ClickException(f"{click.format_filename(file)}: {exc}") from None


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
    samples: dict[str, Any] = _load_input(f"@{inputs}", "--inputs") if inputs else {}
    if not isinstance(samples, dict):
        raise click.BadParameter("the inputs file must hold a JSON object", param_hint="--inputs")
    files = _template_files(folder)
    failed = rendered = 0
    for path in files:
        relative = click.format_filename(path.relative_to(folder).as_posix())
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
