"""Options shared by several commands, and turning them into Settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from handloop.errors import HandloopError, MissingExtra
from handloop.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


class UsageFailure(click.ClickException):
    """A usage error told in one line (no usage text): exit status 2."""

    exit_code = 2


def data_dir_option(func: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Data directory (default: $HANDLOOP_DATA_DIR, else ~/.local/share/handloop).",
    )(func)


def database_url_option(func: F) -> F:
    return click.option(
        "--database-url",
        default=None,
        help="SQLAlchemy database URL (default: $HANDLOOP_DATABASE_URL, else SQLite in the "
        "data directory).",
    )(func)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command line's non-empty options on top."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValueError as exc:
        raise click.UsageError(f"invalid setting: {exc}") from None


def fail(exc: HandloopError | Exception) -> None:
    """Print a readable error and exit non-zero (never a traceback for a user's mistake);
    a missing extra exits with status 2, as a usage error does."""
    if isinstance(exc, MissingExtra):
        raise UsageFailure(exc.message)
    message = exc.message if isinstance(exc, HandloopError) else str(exc)
    raise click.ClickException(message)
