"""`handloop init` and `handloop serve`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from handloop.cli.options import (
    TEXT,
    data_dir_option,
    database_url_option,
    fail,
    load_settings,
)
from handloop.errors import HandloopError
from handloop.services import Services, open_services
from handloop.services.access_keys import NewAccessKey
from handloop.settings import Settings


def print_first_key(key: NewAccessKey, *, as_json: bool = False) -> None:
    if as_json:
        click.echo(
            json.dumps({"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key})
        )
        return
    click.echo(
        "\nhandloop created the deployment's first access key. The secret is shown this once:\n"
        f"  aws_access_key_id     = {key.access_key_id}\n"
        f"  aws_secret_access_key = {key.secret_access_key}\n"
        "More keys: `handloop keys create`.\n"
    )


def _open(
    data_dir: Path | None, database_url: str | None, *, create: bool, **extra: object
) -> Services:
    settings = load_settings(data_dir=data_dir, database_url=database_url, **extra)
    try:
        services = open_services(settings, create=create)
    except HandloopError as exc:
        fail(exc)
        raise  # unreachable: fail() exits
    _warn_if_shared(services)
    return services


def _warn_if_shared(services: Services) -> None:
    """Say so when other users can reach the data directory or the SQLite database.

    handloop makes both private when it creates them; one that already existed keeps the
    mode its owner gave it (it may be shared on purpose), so this only warns."""
    for path, private in ((services.settings.data_dir, 0o700), (services.db.sqlite_path, 0o600)):
        if path is None or not path.exists():
            continue
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            click.echo(
                f"warning: other users can access {click.format_filename(path)} (mode "
                f"{mode:03o}), which holds answers and password hashes; "
                f"run `chmod {private:o} {click.format_filename(path)}` unless that is meant.",
                err=True,
            )


@click.command()
@data_dir_option
@database_url_option
@click.option(
    "--json", "as_json", is_flag=True, help="Print the first key as JSON, if one is made."
)
def init(data_dir: Path | None, database_url: str | None, as_json: bool) -> None:
    """Create a data directory: deployment key, database schema, first access key.

    Safe to run again: an existing deployment is brought to the current schema and keeps its
    keys.
    """
    services = _open(data_dir, database_url, create=True)
    try:
        key = services.access_keys.create_first()
        if key is not None:
            print_first_key(key, as_json=as_json)
        elif not as_json:
            click.echo(f"Data directory {services.settings.data_dir} is ready.")
    finally:
        services.close()


@click.command()
@data_dir_option
@database_url_option
@click.option(
    "--host",
    type=TEXT,
    default=None,
    help="Address to listen on (default $HANDLOOP_HOST or 127.0.0.1).",
)
@click.option(
    "--port", type=int, default=None, help="Port to listen on (default $HANDLOOP_PORT or 8080)."
)
@click.option("--public-url", type=TEXT, default=None, help="Address clients reach the service at.")
@click.option(
    "--demo",
    is_flag=True,
    help="Also create a demo team, worker (password printed once), two LLM-feedback "
    "templates and flow definitions (ranking three answers; picking the better of two) and a "
    "few loops in each to review.",
)
def serve(
    data_dir: Path | None,
    database_url: str | None,
    host: str | None,
    port: int | None,
    public_url: str | None,
    demo: bool,
) -> None:
    """Run the service: the A2I / SageMaker / STS APIs and the worker portal on one port.

    On a fresh data directory this creates the first access key and prints it once.
    """
    import uvicorn

    from handloop.app import create_app

    services = _open(
        data_dir, database_url, create=True, host=host, port=port, public_url=public_url
    )
    key = services.access_keys.create_first()
    if key is not None:
        print_first_key(key)
    settings = services.settings
    if settings.insecure_cheap_password_hashes:
        click.echo(
            "Warning: HANDLOOP_INSECURE_CHEAP_PASSWORD_HASHES is on: new worker passwords are "
            "hashed for a test suite, not for a deployment.",
            err=True,
        )
    if demo:
        _seed_demo(services)
    click.echo(f"handloop {settings.effective_public_url}  (data: {settings.data_dir})", err=True)
    sys.stdout.flush()
    uvicorn.run(create_app(services), **uvicorn_options(settings))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How `handloop serve` runs uvicorn (the test suite's in-process servers too).

    uvicorn on its own believes X-Forwarded-For and X-Forwarded-Proto from 127.0.0.1;
    handloop believes them only from the proxies ``HANDLOOP_TRUSTED_PROXIES`` names, so the
    client address the portal checks (workforce CIDRs, sign-in limits) and the scheme it
    sees (Secure cookies) cannot be forged."""
    trusted = settings.trusted_proxy_list
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "access_log": False,
        "lifespan": "on",
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted,
    }


def _seed_demo(services: Services) -> None:
    import asyncio

    from handloop.services.demo import DEMO_FLOWS, seed_demo

    services.db.start()
    try:
        worker = asyncio.run(seed_demo(services))
    except HandloopError as exc:
        fail(exc)
    url = services.settings.effective_public_url
    click.echo(f"\nDemo: open {url}/ and sign in as the demo worker:")
    if worker.password is not None:
        click.echo(f"  email    = {worker.email}\n  password = {worker.password}  (shown once)")
    else:
        click.echo(f"  email    = {worker.email}  (password as printed the first time)")
    outputs = services.settings.data_dir / "s3" / "handloop-demo"
    click.echo(f"  jobs     = {', '.join(DEMO_FLOWS)}; output files under {outputs}")
    # The console has no default account (docs/console.md): say how to make one.
    data_dir = services.settings.data_dir
    click.echo(
        f"Requester console: {url}/console, after "
        f"`handloop requesters add you@example.com --data-dir {data_dir}`\n"
    )


COMMANDS = [init, serve]
