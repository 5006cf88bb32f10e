"""`handloop keys create|list|revoke`: requester access keys."""

from __future__ import annotations

import json
from pathlib import Path

import click

from handloop.cli.options import TEXT, data_dir_option, database_url_option, fail, load_settings
from handloop.domain.timestamps import to_datetime
from handloop.errors import HandloopError
from handloop.services import Services, open_services


def _services(data_dir: Path | None, database_url: str | None) -> Services:
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        return open_services(settings, create=False)
    except HandloopError as exc:
        fail(exc)
        raise


@click.group()
def keys() -> None:
    """Access keys that requesters sign API calls with (SigV4)."""


@keys.command("create")
@data_dir_option
@database_url_option
@click.option(
    "--description", type=TEXT, default="", help="A note saying who or what the key is for."
)
@click.option(
    "--json", "as_json", is_flag=True, help='Print {"AccessKeyId": ..., "SecretAccessKey": ...}.'
)
def create(
    data_dir: Path | None, database_url: str | None, description: str, as_json: bool
) -> None:
    """Create a key and print its secret, this once only."""
    services = _services(data_dir, database_url)
    try:
        key = services.access_keys.create(description)
    finally:
        services.close()
    if as_json:
        click.echo(
            json.dumps({"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key})
        )
    else:
        click.echo(
            f"AccessKeyId:     {key.access_key_id}\nSecretAccessKey: {key.secret_access_key}"
        )
        click.echo("The secret is not stored in readable form: keep it now.", err=True)


@keys.command("list")
@data_dir_option
@database_url_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def list_keys(data_dir: Path | None, database_url: str | None, as_json: bool) -> None:
    """List keys (ids, notes, dates; never secrets)."""
    services = _services(data_dir, database_url)
    try:
        found = services.access_keys.list_all()
    finally:
        services.close()
    for key in found:
        created = to_datetime(key.created_us).isoformat(timespec="seconds")
        revoked = (
            to_datetime(key.revoked_us).isoformat(timespec="seconds") if key.revoked_us else None
        )
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "AccessKeyId": key.access_key_id,
                        "Description": key.description,
                        "Created": created,
                        "Revoked": revoked,
                    }
                )
            )
        else:
            state = f"revoked {revoked}" if revoked else "active"
            click.echo(f"{key.access_key_id}  {state:<32} created {created}  {key.description}")


@keys.command("revoke")
@data_dir_option
@database_url_option
@click.argument("access_key_id", type=TEXT)
def revoke(data_dir: Path | None, database_url: str | None, access_key_id: str) -> None:
    """Revoke a key: requests signed with it are refused (within HANDLOOP_KEY_CACHE_SECONDS)."""
    services = _services(data_dir, database_url)
    try:
        services.access_keys.revoke(access_key_id)
    except HandloopError as exc:
        fail(exc)
    finally:
        services.close()
    click.echo(f"Revoked {access_key_id}.")


COMMANDS = [keys]
