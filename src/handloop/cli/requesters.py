"""`handloop requesters add|list|remove`: the people who use the console (/console).

Requesters are not workers: accounts of their own, and none by default."""

from __future__ import annotations

import json
from pathlib import Path

import click

from handloop.cli.options import (
    TEXT,
    data_dir_option,
    database_url_option,
    read_password,
)
from handloop.cli.workers import attempt, opened
from handloop.domain.timestamps import to_datetime
from handloop.services.requesters import open_requesters


@click.group()
def requesters() -> None:
    """The people who sign in to the requester console at /console."""


@requesters.command()
@data_dir_option
@database_url_option
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the new requester as JSON.")
@click.argument("email", type=TEXT)
def add(
    data_dir: Path | None,
    database_url: str | None,
    password_stdin: bool,
    as_json: bool,
    email: str,
) -> None:
    """Add a requester who signs in to the console with a password."""
    password = read_password(password_stdin)
    with opened(data_dir, database_url) as services:
        accounts = open_requesters(services.db, services.clock, services.settings)
        found = attempt(lambda: accounts.add(email, password))
        url = services.settings.effective_public_url
    if as_json:
        click.echo(json.dumps({"email": found.email, "console": f"{url}/console"}))
    else:
        click.echo(f"Added requester {found.email}; they sign in at {url}/console.")


@requesters.command("list")
@data_dir_option
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def list_(data_dir: Path | None, database_url: str | None, as_json: bool) -> None:
    """List the requesters."""
    with opened(data_dir, database_url) as services:
        found = open_requesters(services.db, services.clock, services.settings).list_all()
    for requester in found:
        created = to_datetime(requester.created_us).isoformat()
        if as_json:
            click.echo(json.dumps({"email": requester.email, "created": created}))
        else:
            click.echo(f"{requester.email}\t{created}")
    if not found and not as_json:
        click.echo(
            "No requesters yet: add one with `handloop requesters add EMAIL --password-stdin`.",
            err=True,
        )


@requesters.command()
@data_dir_option
@database_url_option
@click.argument("email", type=TEXT)
def remove(data_dir: Path | None, database_url: str | None, email: str) -> None:
    """Delete the requester EMAIL; their console sessions end."""
    with opened(data_dir, database_url) as services:
        accounts = open_requesters(services.db, services.clock, services.settings)
        gone = attempt(lambda: accounts.remove(email))
    click.echo(f"Removed requester {gone.email}.")


COMMANDS = [requesters]
