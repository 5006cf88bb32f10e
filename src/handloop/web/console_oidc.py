"""Requesters sign in to the console through the workforce's OIDC provider
(``HANDLOOP_CONSOLE_OIDC_GROUP``): the same code flow as workers' (``services.oidc``), the
same callback (``web/oidc.py`` hands the console's sign-ins to ``ConsoleProviderSignIn``),
but the answer must put the requester in the configured group, and it opens a console
session, never a worker's.

The console's cookie is SameSite=Strict, which a browser does not send on the redirects
that follow the provider's cross-site redirect back; so the callback answers with a page
that moves on to the console by itself (a navigation of the portal's own, which does send
it), not with a redirect.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from handloop.errors import Forbidden, HandloopError
from handloop.services import Services
from handloop.services.oidc import CONSOLE, Pending, Provider
from handloop.services.requesters import ConsoleSession
from handloop.web.console_base import ConsolePages
from handloop.web.console_security import console_state, set_console_cookie
from handloop.web.oidc import ConsoleAnswers, start_sign_in
from handloop.web.pages import local_path

PROVIDER_SIGN_IN = "/console/signin/provider"


def console_target(next_path: str) -> str:
    """Where a sign-in returns: a console path, else the overview."""
    target = local_path(next_path)
    return target if f"{target}/".startswith("/console/") else "/console"


class ConsoleProviderSignIn:
    """The console's side of sign-in through the workforce's provider."""

    def __init__(self, services: Services, pages: ConsolePages) -> None:
        self._services = services
        self._pages = pages
        self.router = APIRouter(include_in_schema=False)
        self.router.add_api_route(PROVIDER_SIGN_IN, self.sign_in, methods=["GET"])

    async def offered(self) -> Provider | None:
        """The provider requesters may sign in through, or None (the group is not set, or
        the workforce signs in with passwords)."""
        if self._services.settings.console_oidc_group is None:
            return None
        return await self._services.oidc.provider()

    async def sign_in(self, request: Request, next: str = "/console") -> Response:
        """To the provider's sign-in, for the console."""
        if await self.offered() is None:
            return RedirectResponse(
                f"/console/signin?next={quote(console_target(next))}", status_code=303
            )
        return await start_sign_in(request, self._services, console_target(next), CONSOLE)

    async def answer(
        self, request: Request, pending: Pending, code: str, issuer: str | None
    ) -> Response:
        """The provider's answer to a console sign-in: a console session for a member of
        the group (Forbidden for anyone else), then on to the page the sign-in began for."""
        group = self._services.settings.console_oidc_group
        if group is None:
            raise Forbidden(
                "The console does not sign requesters in through the identity provider "
                "(HANDLOOP_CONSOLE_OIDC_GROUP is not set); sign in with your password."
            )
        oidc = self._services.oidc
        identity = await oidc.identify(pending, code, issuer)
        requesters = console_state(request).requesters
        requester = await requesters.from_provider(identity, group)
        token, _ = await requesters.start_session(requester)
        target = console_target(pending.next_path)
        response = self._pages.page(request, "signed_in.html", target=target, session=None)
        set_console_cookie(response, request, self._services, token)
        return response

    async def problem(self, request: Request, exc: HandloopError) -> Response:
        """A console sign-in that did not work, in words, with the ways on: sign out of the
        provider (to sign in as someone else), or sign in with a password."""
        provider = await self._services.oidc.provider()
        logout_url = self._services.oidc.logout_url(provider) if provider else None
        passwords = await console_state(request).requesters.has_passwords()
        return self._pages.page(
            request,
            "signin_problem.html",
            exc.status,
            message=exc.message,
            status=exc.status,
            provider_host=provider.host if provider else None,
            logout_url=logout_url,
            passwords=passwords,
            session=None,
        )

    async def sign_out(self, request: Request, session: ConsoleSession) -> Response | None:
        """After the console's session has ended, for a requester of the provider: a page
        that sends the browser on to the provider's logout endpoint; None when there is
        none (a password requester, or a config without LogoutEndpoint)."""
        if session.requester.issuer is None:
            return None
        provider = await self._services.oidc.provider()
        if provider is None:
            return None
        url = self._services.oidc.logout_url(provider)
        if url is None:
            return None
        return self._pages.page(
            request, "signing_out.html", logout_url=url, provider_host=provider.host, session=None
        )


def _conforms(answers: ConsoleProviderSignIn) -> ConsoleAnswers:
    return answers  # mypy holds the class to the protocol web/oidc.py calls
