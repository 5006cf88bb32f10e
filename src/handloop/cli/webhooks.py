"""`handloop webhooks add|list|remove`: where status-change events are POSTed."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import click

from handloop.cli.options import TEXT, data_dir_option, database_url_option
from handloop.cli.workers import attempt, opened
from handloop.domain.timestamps import to_datetime


@click.group()
def webhooks() -> None:
    """Webhooks that receive human loop status-change events (Completed, Failed, Stopped).

    Each event is POSTed as EventBridge's JSON, at least once, with headers
    X-Handloop-Timestamp and X-Handloop-Signature: "sha256=" + hex HMAC-SHA256 of
    "{timestamp}.{body}" keyed with the webhook's secret.
    """


@webhooks.command()
@data_dir_option
@database_url_option
@click.option(
    "--secret", type=TEXT, default=None, help="Signing secret (default: a new random one, printed)."
)
@click.argument("url", type=TEXT)
def add(data_dir: Path | None, database_url: str | None, secret: str | None, url: str) -> None:
    """Register URL for events from now on."""
    chosen = secret if secret is not None else secrets.token_urlsafe(32)
    with opened(data_dir, database_url) as services:
        hook = attempt(lambda: services.events.add_webhook(url, chosen))
    click.echo(f"Registered {hook.url}.")
    if secret is None:
        click.echo(f"Signing secret (shown once): {chosen}")


@webhooks.command("list")
@data_dir_option
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def list_(data_dir: Path | None, database_url: str | None, as_json: bool) -> None:
    """List registered webhooks and how many deliveries each has pending."""
    with opened(data_dir, database_url) as services:
        hooks = services.events.list_webhooks()
    for hook in hooks:
        created = to_datetime(hook.created_us).isoformat()
        if as_json:
            click.echo(json.dumps({"url": hook.url, "created": created, "pending": hook.pending}))
        else:
            click.echo(f"{hook.url}\t{created}\t{hook.pending} pending")
    if not hooks and not as_json:
        click.echo("No webhooks: add one with `handloop webhooks add URL`.", err=True)


@webhooks.command()
@data_dir_option
@database_url_option
@click.argument("url", type=TEXT)
def remove(data_dir: Path | None, database_url: str | None, url: str) -> None:
    """Stop sending events to URL (pending deliveries to it are dropped)."""
    with opened(data_dir, database_url) as services:
        attempt(lambda: services.events.remove_webhook(url))
    click.echo(f"Removed {url}.")


COMMANDS = [webhooks]
