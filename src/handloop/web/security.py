"""The portal's guards: session cookie, CSRF tokens, the workforce's allowed addresses, and
Content-Security-Policy headers (sign-in rate limits are ``services.sign_ins``)."""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from typing import Any

from fastapi import Request
from starlette.responses import Response

from handloop.errors import Forbidden, NotSignedIn
from handloop.services import Services
from handloop.services.sessions import Session

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


def is_tls(request: Request, services: Services) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return (
        request.url.scheme == "https"
        or forwarded == "https"
        or services.settings.effective_public_url.startswith("https://")
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


def form_token(request: Request) -> str:
    """The pre-session form token: the cookie's, or a new one the response must set."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)


def check_form_token(request: Request, given: str) -> None:
    expected = request.cookies.get(FORM_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, given):
        raise Forbidden("The form expired; reload the page and try again.")


def client_address(request: Request) -> str:
    """The address sign-in limits count failures against."""
    return request.client.host if request.client else "unknown"


def check_csrf(session: Session, given: str | None) -> None:
    if not given or not hmac.compare_digest(session.csrf_token, given):
        raise Forbidden("Missing or wrong CSRF token; reload the page and try again.")


async def current_session(request: Request, services: Services) -> Session:
    token = request.cookies.get(SESSION_COOKIE)
    session = await services.sessions.get(token) if token else None
    if session is None:
        raise NotSignedIn("Sign in first.")
    return session


class AddressCheck:
    """Refuses portal requests from outside the workforce's SourceIpConfig CIDRs."""

    CACHE_SECONDS = 5.0

    def __init__(self, services: Services) -> None:
        self._services = services
        self._loaded = 0.0
        self._networks: list[Any] = []

    async def check(self, request: Request) -> None:
        now = time.monotonic()
        if now - self._loaded > self.CACHE_SECONDS:
            forces = await self._services.workforces.list()
            cidrs = [c for f in forces for c in f.config.get("SourceIpConfig", {}).get("Cidrs", [])]
            self._networks = [ipaddress.ip_network(c, strict=False) for c in cidrs]
            self._loaded = now
        if not self._networks:
            return
        host = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise Forbidden("Your address is not allowed to use this portal.") from None
        if not any(address in net for net in self._networks if net.version == address.version):
            raise Forbidden("Your address is not allowed to use this portal.")
