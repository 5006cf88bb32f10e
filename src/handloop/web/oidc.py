"""The portal's side of OIDC sign-in (``services.oidc`` does the protocol): the redirect to
the provider, the provider's answer at ``/oauth2/idpresponse``, sign-out through the
provider's logout endpoint, and the pages that say in words what went wrong.

``pages.py`` asks ``OidcPages`` first on its sign-in, sign-up and sign-out routes: while the
workforce has an ``OidcConfig``, the built-in password sign-in and sign-up links are closed
(one private workforce, one way in, as on AWS).

The requester console signs requesters in through the same provider and the same callback
(``HANDLOOP_CONSOLE_OIDC_GROUP``): a sign-in started for the console is handed to the
``ConsoleAnswers`` the console puts on the app (``web/console_oidc.py``), which opens a
console session, never a worker's.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Protocol

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from handloop.errors import Forbidden, HandloopError
from handloop.services import Services
from handloop.services.oidc import (
    CALLBACK_PATH,
    CONSOLE,
    SIGN_IN_SECONDS,
    SIGNED_OUT_PATH,
    WORKER,
    Pending,
)
from handloop.web.security import is_tls, secure_headers, set_session_cookie

# Binds a sign-in under way to the browser that started it: the provider's answer is
# accepted only with the state this cookie holds, so a link to someone else's answer cannot
# sign a victim in to the sender's account (login CSRF). SameSite=Lax: the provider's
# redirect back is a top-level GET from another site, which Lax cookies follow.
STATE_COOKIE = "handloop_oidc"


def _same_state(cookie: str, given: str) -> bool:
    """Constant-time comparison of the cookie's state with the answer's (any text)."""
    return bool(cookie) and hmac.compare_digest(
        cookie.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass")
    )


class ConsoleAnswers(Protocol):
    """What the console does with the provider's answers to its sign-ins
    (``app.state.console_answers``)."""

    async def answer(
        self, request: Request, pending: Pending, code: str, issuer: str | None
    ) -> Response: ...

    async def problem(self, request: Request, exc: HandloopError) -> Response: ...


async def start_sign_in(
    request: Request, services: Services, next_path: str, purpose: str = WORKER
) -> Response:
    """The redirect to the provider's sign-in for ``purpose``, with the cookie that binds
    the sign-in to this browser."""
    started = await services.oidc.begin(next_path, purpose)
    response = RedirectResponse(started.url, status_code=303)
    secure_headers(response)
    response.set_cookie(
        STATE_COOKIE,
        started.state,
        max_age=SIGN_IN_SECONDS,
        httponly=True,
        samesite="lax",
        secure=is_tls(request, services),
        path=CALLBACK_PATH,
    )
    return response


class OidcPages:
    """Sign-in pages while the workforce signs in through an OIDC provider."""

    def __init__(self, services: Services, templates: Jinja2Templates) -> None:
        self._services = services
        self._templates = templates
        self.router = APIRouter(include_in_schema=False)
        self.router.add_api_route(CALLBACK_PATH, self.provider_answer, methods=["GET"])
        self.router.add_api_route(SIGNED_OUT_PATH, self.signed_out, methods=["GET"])

    def _page(
        self, request: Request, name: str, http_status: int = 200, **context: object
    ) -> Response:
        response = self._templates.TemplateResponse(request, name, context, status_code=http_status)
        secure_headers(response)
        return response

    def _problem(self, request: Request, exc: HandloopError) -> Response:
        response = self._page(
            request, "signin_problem.html", exc.status, message=exc.message, status=exc.status
        )
        response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
        return response

    async def sign_in(self, request: Request, next_path: str) -> Response | None:
        """The redirect to the provider's sign-in, or None when the portal signs in with
        passwords (the caller shows its form)."""
        if await self._services.oidc.provider() is None:
            return None
        return await start_sign_in(request, self._services, next_path)

    async def refuse_passwords(self) -> None:
        """Forbidden while the workforce signs in through its provider: sign-up links and
        passwords are not a way in then."""
        provider = await self._services.oidc.provider()
        if provider is not None:
            raise Forbidden(
                f"This portal signs workers in through {provider.host} (OIDC); passwords and "
                "sign-up links are not used. Open /signin to sign in."
            )

    async def sign_out(self, request: Request) -> Response | None:
        """After the portal's session has ended: a page that sends the browser on to the
        provider's logout endpoint, or None when there is none (password sign-in, or a
        config without LogoutEndpoint). A page with a refresh, not a redirect: the page the
        sign-out form was on may post forms only to the portal (CSP form-action), and
        browsers apply that to the redirects that follow a post too."""
        provider = await self._services.oidc.provider()
        if provider is None:
            return None
        url = self._services.oidc.logout_url(provider)
        if url is None:
            return None
        return self._page(request, "signing_out.html", logout_url=url, provider_host=provider.host)

    async def provider_answer(
        self,
        request: Request,
        state: Annotated[str, Query(max_length=512)] = "",
        code: Annotated[str, Query(max_length=4096)] = "",
        error: Annotated[str, Query(max_length=256)] = "",
        error_description: Annotated[str, Query(max_length=1024)] = "",
        iss: Annotated[str | None, Query(max_length=512)] = None,
    ) -> Response:
        """The provider sends the browser back here (the redirect URI to register with it)."""
        oidc = self._services.oidc
        purpose = WORKER
        try:
            await oidc.required()
            if not state:
                raise Forbidden("This sign-in answer has no state; sign in again.")
            if not _same_state(request.cookies.get(STATE_COOKIE, ""), state):
                raise Forbidden(
                    "This sign-in answer was not started in this browser, or took longer than "
                    f"{SIGN_IN_SECONDS // 60} minutes; sign in again."
                )
            if error:
                purpose = await oidc.abandon(state) or WORKER
                words = error_description or error
                raise Forbidden(f"The identity provider did not sign you in: {words}.")
            if not code:
                raise Forbidden("This sign-in answer has no code; sign in again.")
            pending = await oidc.take(state)
            purpose = pending.purpose
            if purpose == CONSOLE:
                # A requester's: the console opens its session (and no worker's is made).
                response = await self._console(request).answer(request, pending, code, iss)
                response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
                return response
            worker = await oidc.worker(await oidc.identify(pending, code, iss))
        except HandloopError as exc:
            if purpose == CONSOLE:
                response = await self._console(request).problem(request, exc)
                response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
                return response
            return self._problem(request, exc)
        token, _ = await self._services.sessions.start(worker)
        response = RedirectResponse(pending.next_path, status_code=303)
        set_session_cookie(response, request, self._services, token)
        response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
        return response

    @staticmethod
    def _console(request: Request) -> ConsoleAnswers:
        answers: ConsoleAnswers = request.app.state.console_answers
        return answers

    async def signed_out(self, request: Request) -> Response:
        """Where the provider sends the browser after its logout (register it with the
        provider as the post-logout redirect URI)."""
        return self._page(request, "signed_out.html")
