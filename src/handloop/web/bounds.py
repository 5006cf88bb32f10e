"""What a portal request may be before any route reads it: a body within the route's
limit, and a path without NUL.

The portal's routes read their body (JSON or a form) before they authenticate, so an
unbounded body would be read and parsed in full for anyone. This plain ASGI middleware
refuses a body over its limit from its Content-Length at once, and one without (chunked)
as soon as it has grown past the limit, before a route sees it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handloop.errors import HandloopError, RequestTooLarge, ValidationError

# Sign-in, sign-up, page forms, and the JSON endpoints that take no real body.
SMALL_BODY_BYTES = 64 * 1024
# A submit carries an answer of up to services.tasks.MAX_ANSWER_BYTES (1,000,000) bytes of
# JSON, with room for the envelope, another client's escaping and indentation.
ANSWER_BODY_BYTES = 2 * 1024 * 1024
_SUBMIT = re.compile(r"^/api/tasks/[^/]+/submit$")
# The console's template editor posts a template (up to 128,000 characters) and a sample
# input (up to 100,000), form-encoded or as JSON.
CONSOLE_TEMPLATE_BODY_BYTES = 1024 * 1024
_CONSOLE_TEMPLATE = re.compile(r"^/console/(templates|templates/preview|api/templates/check)$")

# Renders a refusal the way the portal renders every error (JSON under /api, else a page).
Refusal = Callable[[Request, HandloopError], Response]


def body_limit(scope: Scope) -> int:
    """The largest body the route at this path takes."""
    if _SUBMIT.match(scope["path"]):
        return ANSWER_BODY_BYTES
    if _CONSOLE_TEMPLATE.match(scope["path"]):
        return CONSOLE_TEMPLATE_BODY_BYTES
    return SMALL_BODY_BYTES


def _too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"The request body is too large: at most {limit:,} bytes here.")


class RequestBounds:
    def __init__(self, app: ASGIApp, refuse: Refusal) -> None:
        self.app = app
        self.refuse = refuse

    async def _answer(self, scope: Scope, send: Send, error: HandloopError) -> None:
        async def nothing() -> Message:  # the refusal does not read the body
            return {"type": "http.disconnect"}

        await self.refuse(Request(scope), error)(scope, nothing, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            # No portal URL holds one, and PostgreSQL's text cannot: refuse it here rather
            # than at every lookup of a path parameter.
            await self._answer(scope, send, ValidationError("A URL cannot contain NUL."))
            return
        limit = body_limit(scope)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._answer(scope, send, _too_large(limit))
            return

        received = 0
        over = False  # the body passed the limit: the route gets no more of it
        answered = False  # ... and the client got the refusal from here
        started = False

        async def bounded_receive() -> Message:
            nonlocal received, over, answered
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # The route sees a client that went away; the answer it then makes
                    # is dropped below, since the client has this one.
                    over = True
                    if not started:
                        answered = True
                        await self._answer(scope, send, _too_large(limit))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, bounded_receive, guarded_send)
