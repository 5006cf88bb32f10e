"""The portal's guards: session cookie, CSRF tokens, sign-in, the client's address and
scheme, the workforce's allowed addresses, and Content-Security-Policy headers (sign-in
rate limits are ``services.sign_ins``).

Routes take the session and the CSRF check as dependencies (``SignedInSession``,
``ApiChange``, ``FormChange``, ``PublicForm``), so neither can be forgotten;
``tests/test_portal_routes.py`` walks every route to hold that."""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import secrets
import time
from typing import Annotated, Any

from fastapi import Depends, Form, Header, Request
from starlette.responses import Response

from handloop.domain.records import Worker
from handloop.errors import Forbidden, NotSignedIn
from handloop.services import Services
from handloop.services.sessions import Session
from handloop.services.workers import normalise_email

SESSION_COOKIE = "handloop_session"
# Sign-in and sign-up forms are posted before a session exists: a double-submit cookie.
FORM_COOKIE = "handloop_form"
CSRF_HEADER = "x-csrf-token"

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def frame_csp(origin: str) -> str:
    """The task frame's policy. Task templates carry inline scripts and may load libraries
    and images; what protects workers is the sandbox (an opaque origin: no cookies, no
    access to the portal page) and that nothing but the portal may embed the frame."""
    return (
        f"default-src 'none'; script-src {origin} https: 'unsafe-inline' 'unsafe-eval'; "
        f"style-src {origin} https: 'unsafe-inline'; img-src {origin} https: data: blob:; "
        f"media-src {origin} https: data: blob:; font-src {origin} https: data:; "
        f"connect-src {origin} https:; form-action 'none'; frame-ancestors {origin}; "
        "base-uri 'none'; object-src 'none'"
    )


def secure_headers(response: Response, csp: str = PAGE_CSP) -> None:
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")


def client_address(request: Request) -> str:
    """The client's address: the connection's peer, or what a trusted proxy says it is.

    The server (``cli/server.py``) rewrites the peer from X-Forwarded-For only for the
    proxies ``HANDLOOP_TRUSTED_PROXIES`` names; every check that needs an address (the
    workforce's CIDRs, sign-in limits) reads it here and nowhere else."""
    return request.client.host if request.client else "unknown"


def is_tls(request: Request, services: Services) -> bool:
    """Whether browsers reach the portal over TLS: the request's scheme (from
    X-Forwarded-Proto only when a trusted proxy sent it, as for ``client_address``), or an
    https public URL."""
    return request.url.scheme == "https" or services.settings.effective_public_url.startswith(
        "https://"
    )


def set_cookie(
    response: Response, request: Request, services: Services, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=is_tls(request, services),
        path="/",
    )


def set_session_cookie(
    response: Response, request: Request, services: Services, token: str
) -> None:
    max_age = int(services.settings.session_hours * 3600)
    set_cookie(response, request, services, SESSION_COOKIE, token, max_age)


def _same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a token with what a client sent (any text: compared as
    bytes, since ``compare_digest`` refuses non-ASCII strings)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))


def form_token(request: Request) -> str:
    """The pre-session form token: the cookie's, or a new one the response must set."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)


def check_form_token(request: Request, given: str) -> None:
    if not _same_token(request.cookies.get(FORM_COOKIE, ""), given):
        raise Forbidden("The form expired; reload the page and try again.")


def check_csrf(session: Session, given: str | None) -> None:
    if not _same_token(session.csrf_token, given):
        raise Forbidden("Missing or wrong CSRF token; reload the page and try again.")


# -- the guards as dependencies: a route states what it needs in its signature ---------------


def portal_services(request: Request) -> Services:
    """The deployment's services, which ``create_portal`` puts in the app's state."""
    services: Services = request.app.state.services
    return services


async def signed_in(request: Request) -> Session:
    """The worker's session from the session cookie, else NotSignedIn."""
    token = request.cookies.get(SESSION_COOKIE)
    session = await portal_services(request).sessions.get(token) if token else None
    if session is None:
        raise NotSignedIn("Sign in first.")
    return session


SignedInSession = Annotated[Session, Depends(signed_in)]


async def csrf_from_header(
    session: SignedInSession,
    x_csrf_token: Annotated[
        str | None,
        Header(alias="X-CSRF-Token", description="The csrfToken sign-in returned."),
    ] = None,
) -> Session:
    """The session of a JSON state change, whose X-CSRF-Token header is the session's."""
    check_csrf(session, x_csrf_token)
    return session


async def csrf_from_form(
    session: SignedInSession, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Session:
    """The session of a posted page form, whose csrf_token field is the session's."""
    check_csrf(session, csrf_token)
    return session


async def form_token_matches(
    request: Request, form_token: Annotated[str, Form(max_length=128)] = ""
) -> None:
    """A form posted before there is a session (sign-in, sign-up) carries the token of its
    double-submit cookie."""
    check_form_token(request, form_token)


# A JSON state change: signed in, with the CSRF header.
ApiChange = Annotated[Session, Depends(csrf_from_header)]
# A page's form post: signed in, with the CSRF field.
FormChange = Annotated[Session, Depends(csrf_from_form)]
# A form posted before signing in: the double-submit token.
PublicForm = Depends(form_token_matches)


async def sign_in(request: Request, email: str, password: str) -> tuple[Worker, str, str]:
    """Sign a worker in, for the sign-in page and ``POST /api/session`` alike: the email in
    its one form, the address's and the email's failure limits, the password checked off
    the event loop (argon2 is slow on purpose), a failure counted, a new session. Returns
    the worker, the session cookie's token and the CSRF token."""
    services = portal_services(request)
    provider = await services.oidc.provider()
    if provider is not None:
        raise Forbidden(
            f"This portal signs workers in through {provider.host} (OIDC), not with "
            "passwords: open /signin in a browser."
        )
    email = normalise_email(email)  # invalid text is refused here, before any lookup
    address = client_address(request)
    await services.sign_ins.check(address, email)
    try:
        worker = await asyncio.to_thread(services.workers.verify_password, email, password)
    except NotSignedIn:
        await services.sign_ins.failed(address, email)
        raise
    token, csrf = await services.sessions.start(worker)
    return worker, token, csrf


class AddressCheck:
    """Refuses portal requests from outside the workforce's SourceIpConfig CIDRs.

    The CIDRs are cached: a change made through this process applies to the next request,
    one made through another process sharing the database within ``CACHE_SECONDS``."""

    CACHE_SECONDS = 5.0

    def __init__(self, services: Services) -> None:
        self._services = services
        self._loaded = 0.0
        self._generation = -1
        self._networks: list[Any] = []

    async def check(self, request: Request) -> None:
        now = time.monotonic()
        workforces = self._services.workforces
        if now - self._loaded > self.CACHE_SECONDS or workforces.generation != self._generation:
            generation = workforces.generation
            forces = await workforces.list_all()
            cidrs = [c for f in forces for c in f.config.get("SourceIpConfig", {}).get("Cidrs", [])]
            self._networks = [ipaddress.ip_network(c, strict=False) for c in cidrs]
            self._loaded, self._generation = now, generation
        if not self._networks:
            return
        try:
            address = ipaddress.ip_address(client_address(request))
        except ValueError:
            raise Forbidden("Your address is not allowed to use this portal.") from None
        if not any(address in net for net in self._networks if net.version == address.version):
            raise Forbidden("Your address is not allowed to use this portal.")
