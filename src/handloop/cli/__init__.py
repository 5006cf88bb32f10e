"""The ``handloop`` command line. Each command lives in its own module of this package."""

from __future__ import annotations

from typing import Any

import click

from handloop import __version__
from handloop.cli.options import UsageFailure
from handloop.errors import MissingExtra


class _Commands(click.Group):
    """Every command: an optional dependency that is not installed is one line naming the
    extra to install (exit status 2), wherever in a command it turns out to be needed."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MissingExtra as exc:
            raise UsageFailure(exc.message) from None


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="handloop")
def main() -> None:
    """handloop: self-hosted human review for ML teams, wire-compatible with Amazon A2I.

    Every command reads its settings from HANDLOOP_* environment variables (see
    docs/settings.md); options given on the command line take precedence.
    """


def _register() -> None:
    # Imported here so that `handloop --help` lists every command and importing this
    # package has no other side effects.
    from handloop.cli import (
        evaluation,
        export,
        gold,
        keys,
        requesters,
        server,
        templates,
        webhooks,
        workers,
    )

    commands = (server, keys, workers, gold, requesters, webhooks, templates, export, evaluation)
    for module in commands:
        for command in module.COMMANDS:
            main.add_command(command)


_register()
