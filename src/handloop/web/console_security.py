"""The requester console's guards: its own session cookie (scoped to /console, so worker
pages never receive it and the worker's cookie opens nothing here), its CSRF checks, and
requester sign-in with the same failure limits as worker sign-in.

Routes take these as dependencies (``ConsoleSignedIn``, ``ConsoleForm``, ``ConsoleJson``,
``PublicForm``), as the portal's routes take theirs; ``tests/test_console_routes.py`` walks
every console route to hold that."""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Form, Header, Request
from starlette.responses import Response

from handloop.errors import Forbidden, NotSignedIn
from handloop.services import Services
from handloop.services.console import Console
from handloop.services.requesters import ConsoleSession, Requester, Requesters
from handloop.services.workers import normalise_email
from handloop.web.console_exports import Exports
from handloop.web.security import client_address, is_tls

CONSOLE_COOKIE = "handloop_console"
CONSOLE_PATH = "/console"
# Requester failures are counted apart from workers' under this prefix (the address's
# failures are one count for both sign-in pages).
LIMIT_PREFIX = "console:"


class ConsoleNotSignedIn(NotSignedIn):
    """No console session: GET pages send the browser to the console's sign-in page."""


@dataclass
class ConsoleState:
    """What the console keeps for the life of the portal app (``app.state.console``)."""

    services: Services
    requesters: Requesters
    console: Console
    exports: Exports
    # Runs one export (set by the app, which may import the export's code; see app.py).
    exporter: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


async def console_signed_in(request: Request) -> ConsoleSession:
    """The requester's session from the console cookie, else ConsoleNotSignedIn."""
    token = request.cookies.get(CONSOLE_COOKIE)
    session = await console_state(request).requesters.session(token) if token else None
    if session is None:
        raise ConsoleNotSignedIn("Sign in to the console first.")
    return session


ConsoleSignedIn = Annotated[ConsoleSession, Depends(console_signed_in)]


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a token with what a client sent (any text)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def _check(session: ConsoleSession, given: str | None) -> None:
    if not same_token(session.csrf_token, given):
        raise Forbidden("Missing or wrong CSRF token; reload the page and try again.")


async def console_csrf_from_form(
    session: ConsoleSignedIn, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> ConsoleSession:
    """A console form post: its csrf_token field is the session's."""
    _check(session, csrf_token)
    return session


async def console_csrf_from_header(
    session: ConsoleSignedIn,
    x_csrf_token: Annotated[str | None, Header(alias="X-CSRF-Token")] = None,
) -> ConsoleSession:
    """A console script's JSON call: its X-CSRF-Token header is the session's."""
    _check(session, x_csrf_token)
    return session


ConsoleForm = Annotated[ConsoleSession, Depends(console_csrf_from_form)]
ConsoleJson = Annotated[ConsoleSession, Depends(console_csrf_from_header)]


def set_console_cookie(
    response: Response, request: Request, services: Services, token: str
) -> None:
    response.set_cookie(
        CONSOLE_COOKIE,
        token,
        max_age=int(services.settings.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=is_tls(request, services),
        path=CONSOLE_PATH,
    )


def clear_console_cookie(response: Response) -> None:
    response.delete_cookie(CONSOLE_COOKIE, path=CONSOLE_PATH)


async def requester_sign_in(request: Request, email: str, password: str) -> tuple[Requester, str]:
    """Sign a requester in: the address's and the email's failure limits (as for workers),
    the password checked off the event loop, a failure counted, a new session. Returns the
    requester and the cookie's token."""
    state = console_state(request)
    services = state.services
    email = normalise_email(email)
    address = client_address(request)
    await services.sign_ins.check(address, LIMIT_PREFIX + email)
    try:
        requester = await asyncio.to_thread(state.requesters.verify_password, email, password)
    except NotSignedIn:
        await services.sign_ins.failed(address, LIMIT_PREFIX + email)
        raise
    token, _ = await state.requesters.start_session(requester)
    return requester, token
