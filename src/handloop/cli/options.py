"""Options shared by several commands, and turning them into Settings."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from handloop.domain.json_values import check_text
from handloop.errors import HandloopError, MissingExtra, ValidationError
from handloop.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


class UsageFailure(click.ClickException):
    """A usage error told in one line (no usage text): exit status 2."""

    exit_code = 2


if TYPE_CHECKING:
    _ParamType = click.ParamType[str]
else:  # older click (the range allows 8.1) has no generic ParamType to subscript
    _ParamType = click.ParamType


class TextType(_ParamType):
    """Text to store or look up: valid Unicode without NUL.

    Bytes on the command line that are not UTF-8 reach Python as lone surrogates
    (surrogateescape); they are refused here, before any command stores or sends them.
    Paths are not text: give them ``click.Path``, which keeps such bytes as the file's name.
    """

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return check_text(value, "the text")
        except ValidationError as exc:
            self.fail(exc.message, param, ctx)


TEXT = TextType()


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
        type=TEXT,
        default=None,
        help="SQLAlchemy database URL (default: $HANDLOOP_DATABASE_URL, else SQLite in the "
        "data directory).",
    )(func)


def read_password(from_stdin: bool) -> str:
    """A new account's password: one line of standard input (provisioning scripts), else
    prompted twice without echo; text within handloop's rules, else a usage error."""
    if from_stdin:
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
    return password


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
