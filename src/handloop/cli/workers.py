"""`handloop workers invite|add|list|disable|enable|remove`: the workforce's people."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click

from handloop.cli.options import (
    TEXT,
    UsageFailure,
    data_dir_option,
    database_url_option,
    fail,
    load_settings,
)
from handloop.domain.json_values import check_text
from handloop.domain.records import Worker
from handloop.domain.timestamps import to_datetime
from handloop.errors import HandloopError, ValidationError
from handloop.services import Services, open_services

T = TypeVar("T")


@contextmanager
def opened(data_dir: Path | None, database_url: str | None) -> Iterator[Services]:
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        services = open_services(settings, create=False)
    except HandloopError as exc:
        fail(exc)
        raise
    try:
        yield services
    finally:
        services.close()


def attempt(action: Callable[[], T]) -> T:
    try:
        return action()
    except HandloopError as exc:
        fail(exc)
        raise


def _worker_json(worker: Worker) -> str:
    return json.dumps(
        {
            "email": worker.email,
            "workerId": worker.worker_id,
            "groups": list(worker.groups),
            "disabled": worker.disabled,
            "created": to_datetime(worker.created_us).isoformat(),
        }
    )


group_option = click.option(
    "--group",
    "groups",
    type=TEXT,
    multiple=True,
    metavar="GROUP",
    help="A group the worker belongs to (repeatable). Work teams name groups in their "
    "MemberDefinitions (CognitoMemberDefinition.UserGroup).",
)


@click.group()
def workers() -> None:
    """The people who sign in to the portal and complete tasks."""


@workers.command()
@data_dir_option
@database_url_option
@group_option
@click.argument("email", type=TEXT)
def invite(
    data_dir: Path | None, database_url: str | None, groups: tuple[str, ...], email: str
) -> None:
    """Print a one-time sign-up link for EMAIL; the worker chooses a password there."""
    with opened(data_dir, database_url) as services:
        token = attempt(lambda: services.workers.invite(email, groups))
        hours = services.settings.invitation_hours
        click.echo(f"{services.settings.effective_public_url}/join/{token}")
    click.echo(f"Send this link to {email}; it works once, for {hours:g} hours.", err=True)


@workers.command()
@data_dir_option
@database_url_option
@group_option
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the new worker as JSON.")
@click.argument("email", type=TEXT)
def add(
    data_dir: Path | None,
    database_url: str | None,
    groups: tuple[str, ...],
    password_stdin: bool,
    as_json: bool,
    email: str,
) -> None:
    """Add a worker with a password (for provisioning scripts; people get `invite`)."""
    if password_stdin:
        try:
            password = sys.stdin.readline().rstrip("\r\n")
        except UnicodeDecodeError:
            raise UsageFailure("the password on standard input is not valid UTF-8") from None
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        check_text(password, "The password")
    except ValidationError as exc:
        raise UsageFailure(exc.message) from None
    with opened(data_dir, database_url) as services:
        worker = attempt(lambda: services.workers.add(email, password, groups))
    if as_json:
        click.echo(_worker_json(worker))
    else:
        click.echo(f"Added {worker.email} (worker id {worker.worker_id}).")


@workers.command("list")
@data_dir_option
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def list_(data_dir: Path | None, database_url: str | None, as_json: bool) -> None:
    """List the workers, their groups and whether they are disabled."""
    with opened(data_dir, database_url) as services:
        found = services.workers.list_all()
    for worker in found:
        if as_json:
            click.echo(_worker_json(worker))
        else:
            state = "disabled" if worker.disabled else "active"
            groups = ",".join(worker.groups) or "-"
            click.echo(f"{worker.email}\t{worker.worker_id}\t{state}\t{groups}")
    if not found and not as_json:
        click.echo(
            "No workers yet: add one with `handloop workers invite EMAIL --group G`.", err=True
        )


def _set_disabled(data_dir: Path | None, database_url: str | None, who: str, value: bool) -> None:
    with opened(data_dir, database_url) as services:
        worker = attempt(lambda: services.workers.set_disabled(who, value))
    click.echo(f"{worker.email} is {'disabled' if worker.disabled else 'active'}.")


@workers.command()
@data_dir_option
@database_url_option
@click.argument("worker", type=TEXT)
def disable(data_dir: Path | None, database_url: str | None, worker: str) -> None:
    """Stop WORKER (email or worker id) signing in; their tasks go back to the pool."""
    _set_disabled(data_dir, database_url, worker, True)


@workers.command()
@data_dir_option
@database_url_option
@click.argument("worker", type=TEXT)
def enable(data_dir: Path | None, database_url: str | None, worker: str) -> None:
    """Let a disabled WORKER (email or worker id) sign in again."""
    _set_disabled(data_dir, database_url, worker, False)


@workers.command()
@data_dir_option
@database_url_option
@click.option(
    "--add", "add", type=TEXT, multiple=True, metavar="GROUP", help="Group to join (repeatable)."
)
@click.option(
    "--remove",
    "remove_",
    type=TEXT,
    multiple=True,
    metavar="GROUP",
    help="Group to leave (repeatable).",
)
@click.argument("worker", type=TEXT)
def groups(
    data_dir: Path | None,
    database_url: str | None,
    add: tuple[str, ...],
    remove_: tuple[str, ...],
    worker: str,
) -> None:
    """Change the groups of WORKER (email or worker id), hence the teams they work for."""
    with opened(data_dir, database_url) as services:
        found = attempt(lambda: services.workers.set_groups(worker, add, remove_))
    click.echo(f"{found.email}: {', '.join(found.groups) or 'no groups'}")


@workers.command()
@data_dir_option
@database_url_option
@click.argument("worker", type=TEXT)
def remove(data_dir: Path | None, database_url: str | None, worker: str) -> None:
    """Delete WORKER (email or worker id); answers they submitted stay in the outputs."""
    with opened(data_dir, database_url) as services:
        gone = attempt(lambda: services.workers.remove(worker))
    click.echo(f"Removed {gone.email}.")


COMMANDS = [workers]
