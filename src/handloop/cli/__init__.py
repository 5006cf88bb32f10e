"""The ``handloop`` command line. Each command lives in its own module of this package."""

from __future__ import annotations

import click

from handloop import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="handloop")
def main() -> None:
    """handloop: self-hosted human review for ML teams, wire-compatible with Amazon A2I.

    Every command reads its settings from HANDLOOP_* environment variables (see
    docs/settings.md); options given on the command line take precedence.
    """


def _register() -> None:
    # Imported here so that `handloop --help` lists every command and importing this
    # package has no other side effects.
    from handloop.cli import export, keys, server, templates, webhooks, workers

    for module in (server, keys, workers, webhooks, templates, export):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
