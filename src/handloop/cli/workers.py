"""`handloop workers invite|add|list|disable|enable|groups|remove|resume`: the workforce's
people, and (``list --flow``, ``resume``) their quality figures on a flow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from handloop.cli.options import (
    TEXT,
    UsageFailure,
    data_dir_option,
    database_url_option,
    fail,
    load_settings,
    read_password,
)
from handloop.domain.records import Worker
from handloop.domain.timestamps import to_datetime
from handloop.errors import HandloopError, ResourceNotFound
from handloop.services import Services, open_services
from handloop.services.quality import WorkerRecord, settings_of
from handloop.services.workers import load_worker, normalise_email

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


def run_async(services: Services, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one of the services' coroutines from a command: their writes go through the
    database's writer thread, which a command starts only when it needs it."""
    services.db.start()
    try:
        return asyncio.run(make())
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
    password = read_password(password_stdin)
    with opened(data_dir, database_url) as services:
        worker = attempt(lambda: services.workers.add(email, password, groups))
    if as_json:
        click.echo(_worker_json(worker))
    else:
        click.echo(f"Added {worker.email} (worker id {worker.worker_id}).")


@workers.command("list")
@data_dir_option
@database_url_option
@click.option(
    "--flow",
    type=TEXT,
    default=None,
    metavar="FLOW",
    help="Show each worker's quality figures on this flow definition instead (trust, "
    "pause, gold accuracy, agreement, position and speed; see docs/quality.md).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON lines (with --flow: one JSON array of objects).",
)
def list_(data_dir: Path | None, database_url: str | None, flow: str | None, as_json: bool) -> None:
    """List the workers, their groups and whether they are disabled; with --flow, their
    quality figures on that flow."""
    if flow is not None:
        _list_figures(data_dir, database_url, flow, as_json)
        return
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


def _figures_json(record: WorkerRecord) -> dict[str, Any]:
    """One worker's figures on a flow, as ``workers list --flow --json`` prints them (None
    where there is nothing to measure yet: no gold answered, no task shared, ...)."""
    fig = record.figures
    return {
        "email": record.email,
        "worker_id": record.worker_id,
        "trust": round(record.trust, 4),
        "paused": record.paused,
        "paused_reason": record.paused_reason,
        "answers": fig.answers,
        "gold_answers": fig.gold_answers,
        "gold_accuracy": _rounded(fig.gold_accuracy),
        "agreement": _rounded(fig.agreement),
        "agreement_tasks": fig.agreement_n,
        "first_position_share": _rounded(fig.first_share),
        "position_choices": fig.position_choices,
        "median_seconds": _rounded(fig.median_seconds),
        "flow_median_seconds": _rounded(fig.flow_median_seconds),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


FIGURE_COLUMNS = (
    "email",
    "worker id",
    "trust",
    "state",
    "answers",
    "gold (accuracy)",
    "agreement (tasks)",
    "first position",
    "median time (flow)",
)


def _figures_line(record: WorkerRecord) -> str:
    fig = record.figures
    state = f"paused: {record.paused_reason}" if record.paused else "active"
    gold = f"{fig.gold_answers} ({_share(fig.gold_accuracy)})"
    agreement = f"{_share(fig.agreement)} ({fig.agreement_n})"
    first = f"{_share(fig.first_share)} of {fig.position_choices}" if fig.position_choices else "-"
    speed = f"{_seconds(fig.median_seconds)} ({_seconds(fig.flow_median_seconds)})"
    return "\t".join(
        (
            record.email,
            record.worker_id,
            f"{record.trust:.2f}",
            state,
            str(fig.answers),
            gold,
            agreement,
            first,
            speed,
        )
    )


def _list_figures(
    data_dir: Path | None, database_url: str | None, flow: str, as_json: bool
) -> None:
    with opened(data_dir, database_url) as services:
        definition = run_async(services, lambda: services.flow_definitions.get(flow))
        records = run_async(services, lambda: services.quality.workers(flow))
    if as_json:
        click.echo(json.dumps([_figures_json(record) for record in records], indent=2))
    elif records:
        click.echo("\t".join(FIGURE_COLUMNS))
        for record in records:
            click.echo(_figures_line(record))
    if not settings_of(definition.config).enabled:
        click.echo(
            f"{flow} has no handloop quality tags, so no figures are kept for it "
            "(see docs/quality.md).",
            err=True,
        )
    elif not records and not as_json:
        click.echo(f"No worker has taken a task on {flow} yet.", err=True)


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


@workers.command()
@data_dir_option
@database_url_option
@click.option(
    "--flow", type=TEXT, required=True, metavar="FLOW", help="The flow definition to resume on."
)
@click.argument("worker", type=TEXT)
def resume(data_dir: Path | None, database_url: str | None, flow: str, worker: str) -> None:
    """Lift the pause of WORKER (email or worker id) on FLOW: they may claim its tasks again.

    Their evidence starts afresh: they are paused again only after the flow's min-evidence
    new observations leave their trust below min-trust.
    """
    with opened(data_dir, database_url) as services:
        run_async(services, lambda: services.flow_definitions.get(flow))
        found = attempt(lambda: services.db.read_now(lambda conn: _find_worker(conn, worker)))
        lifted = run_async(services, lambda: services.quality.resume(found.id, flow))
    if not lifted:
        raise UsageFailure(f"{found.email} is not paused on {flow}.")
    click.echo(f"Resumed {found.email} on {flow}.")


def _find_worker(conn: Any, who: str) -> Worker:
    found = load_worker(conn, email=normalise_email(who)) or load_worker(conn, worker_id=who)
    if found is None:
        raise ResourceNotFound(f"No worker {who}.")
    return found


COMMANDS = [workers]
