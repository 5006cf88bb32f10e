"""The requester console at /console: server-rendered pages for the people who run flows
(``handloop requesters add``), apart from the worker portal.

Sign-in, the overview (loops per status, answers per hour, expected time to finish, kept
live by server-sent events from ``/console/stream``), a flow's loops (keyset paging), one
loop (its input, its answers in the task's own template, its output file; Stop and
Delete). Templates, workforce and webhooks are ``console_admin``; exports ``console_data``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from handloop.blobs import BlobNotFound
from handloop.domain.output_layout import split_s3_uri
from handloop.domain.timestamps import from_datetime
from handloop.errors import HandloopError, NotSignedIn, ResourceNotFound, ValidationError
from handloop.services import Services
from handloop.services.console import (
    Console,
    Cursor,
)
from handloop.services.requesters import open_requesters
from handloop.templating import TemplateRenderError, render_template
from handloop.web.console_admin import admin_router
from handloop.web.console_base import ConsolePages, make_templates
from handloop.web.console_data import data_router
from handloop.web.console_exports import Exports
from handloop.web.console_oidc import ConsoleProviderSignIn
from handloop.web.console_security import (
    CONSOLE_COOKIE,
    ConsoleForm,
    ConsoleNotSignedIn,
    ConsoleSignedIn,
    ConsoleState,
    clear_console_cookie,
    console_state,
    requester_sign_in,
    set_console_cookie,
)
from handloop.web.pages import local_path
from handloop.web.security import (
    PublicForm,
)

PAGE_SIZE = 50
# How often the stream looks at the counters, and how long one stream lasts before the
# browser reconnects (EventSource does so by itself).
STREAM_POLL_SECONDS = 1.0
STREAM_KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0
# An output file larger than this is offered for download, not shown.
OUTPUT_SHOWN_BYTES = 256 * 1024


def error_page(request: Request, exc: HandloopError, status: int) -> Response:
    """Every console error: the sign-in page for a GET without a session, JSON for the
    console's scripts (/console/api/...), else a page in the console's layout."""
    path = request.url.path
    if (
        isinstance(exc, NotSignedIn)
        and request.method == "GET"
        and not path.startswith("/console/api/")
    ):
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/console/signin?next={quote(target)}", status_code=303)
    if path.startswith("/console/api/") or path == "/console/stream":
        return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=status)
    state: ConsoleState = request.app.state.console
    pages: ConsolePages = state.extra["pages"]
    return pages.page(
        request, "error.html", status, message=exc.message, status=status, session=None
    )


def _as_us(value: str | None, what: str) -> int | None:
    """A time from a filter field (datetime-local or ISO 8601, UTC unless it says)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{what} is not a date and time (YYYY-MM-DDTHH:MM).") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return from_datetime(parsed)


# -- the router ----------------------------------------------------------------------------


def console_router(
    services: Services, pages: ConsolePages, provider_sign_in: ConsoleProviderSignIn
) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)

    def state(request: Request) -> ConsoleState:
        return console_state(request)

    # -- signing in and out ---------------------------------------------------------------

    async def provider_host() -> str | None:
        provider = await provider_sign_in.offered()
        return provider.host if provider else None

    @router.get("/signin")
    async def signin_form(request: Request, next: str = "/console") -> Response:
        host = await provider_host()
        if host is not None and not await state(request).requesters.has_passwords():
            # Only the provider signs requesters in: straight there, as the portal does.
            return await provider_sign_in.sign_in(request, next)
        return pages.form_page(
            request,
            "signin.html",
            next=local_path(next),
            error=None,
            email="",
            session=None,
            provider_host=host,
        )

    @router.post("/signin", dependencies=[PublicForm])
    async def signin(
        request: Request,
        email: Annotated[str, Form(max_length=254)],
        password: Annotated[str, Form(max_length=1024)],
        next: Annotated[str, Form(max_length=2048)] = "/console",
    ) -> Response:
        try:
            _, token = await requester_sign_in(request, email, password)
        except HandloopError as exc:
            status = 401 if isinstance(exc, NotSignedIn) else exc.status
            return pages.form_page(
                request,
                "signin.html",
                status,
                next=local_path(next),
                error=exc.message,
                email=email,
                session=None,
                provider_host=await provider_host(),
            )
        target = local_path(next)
        if not target.startswith("/console"):
            target = "/console"
        response = RedirectResponse(target, status_code=303)
        set_console_cookie(response, request, services, token)
        return response

    @router.post("/signout")
    async def signout(request: Request, session: ConsoleForm) -> Response:
        await state(request).requesters.end_session(request.cookies[CONSOLE_COOKIE])
        # A requester of the provider is signed out of it too, as workers are.
        response = await provider_sign_in.sign_out(request, session) or RedirectResponse(
            "/console/signin", status_code=303
        )
        clear_console_cookie(response)
        return response

    # -- the overview ------------------------------------------------------------------------

    @router.get("")
    async def overview(request: Request, session: ConsoleSignedIn) -> Response:
        flows = await state(request).console.overview()
        return pages.page(request, "overview.html", session=session, flows=flows, nav="overview")

    @router.get("/stream")
    async def stream(request: Request, session: ConsoleSignedIn) -> Response:
        """Server-sent events: ``overview`` with every flow's live figures whenever they
        change (and once at the start); a comment now and then keeps proxies from closing
        an idle stream. The stream ends after a few minutes; EventSource reconnects."""
        console = state(request).console

        async def events() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            last = None
            loop = asyncio.get_running_loop()
            started = quiet = loop.time()
            while loop.time() - started < STREAM_SECONDS:
                if await request.is_disconnected():
                    return
                figures = [flow.live() for flow in await console.overview()]
                payload = json.dumps({"flows": figures}, separators=(",", ":"))
                if payload != last:
                    yield f"event: overview\ndata: {payload}\n\n"
                    last, quiet = payload, loop.time()
                elif loop.time() - quiet > STREAM_KEEPALIVE_SECONDS:
                    yield ": ping\n\n"
                    quiet = loop.time()
                await asyncio.sleep(STREAM_POLL_SECONDS)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # -- a flow ----------------------------------------------------------------------------

    @router.get("/flows/{flow}")
    async def flow_page(
        request: Request,
        flow: str,
        session: ConsoleSignedIn,
        status: Annotated[str, Query(max_length=16)] = "",
        after: Annotated[str, Query(max_length=40)] = "",
        before: Annotated[str, Query(max_length=40)] = "",
        page: Annotated[str, Query(max_length=80)] = "",
    ) -> Response:
        console = state(request).console
        summary = await console.flow_summary(flow)
        cursor = Cursor.parse(page)
        loops = await console.loops(
            flow,
            status=status or None,
            created_after_us=_as_us(after, "'Created after'"),
            created_before_us=_as_us(before, "'Created before'"),
            cursor=cursor,
            limit=PAGE_SIZE,
        )
        filters = {k: v for k, v in (("status", status), ("after", after), ("before", before)) if v}

        def link(position: Cursor | None) -> str | None:
            if position is None:
                return None
            query = urlencode({**filters, "page": position.text()})
            return f"/console/flows/{quote(flow)}?{query}"

        base = f"/console/flows/{quote(flow)}" + (f"?{urlencode(filters)}" if filters else "")
        matching = summary.counts.get(status, 0) if status else summary.total
        return pages.page(
            request,
            "flow.html",
            session=session,
            nav="overview",
            flow=summary,
            loops=loops,
            status=status,
            after=after,
            before=before,
            matching=matching,
            timed=bool(after or before),
            first_link=base if cursor is not None else None,
            newer_link=link(loops.newer),
            older_link=link(loops.older),
            last_link=link(Cursor("last")) if loops.older is not None else None,
        )

    # -- a loop ----------------------------------------------------------------------------

    @router.get("/loops/{name}")
    async def loop_page(request: Request, name: str, session: ConsoleSignedIn) -> Response:
        loop = await state(request).console.loop(name)
        output, output_size = None, None
        if loop.status == "Completed":
            output, output_size = await _read_output(services, loop.output_uri)
        return pages.page(
            request,
            "loop.html",
            session=session,
            nav="overview",
            hl=loop,
            output=output,
            output_size=output_size,
        )

    @router.get("/loops/{name}/frame")
    async def loop_frame(
        request: Request, name: str, session: ConsoleSignedIn, answer: int = -1
    ) -> Response:
        """The loop's task as its workers saw it, with the input; with ``answer``, that
        answer filled in, read-only."""
        loop = await state(request).console.loop(name)
        if loop.template is None:
            return pages.frame(
                request,
                "<p>The flow definition of this loop was deleted, and its template with it.</p>",
            )
        shown = None
        if 0 <= answer < len(loop.answers):
            shown = loop.answers[answer].content
        elif answer >= len(loop.answers):
            raise ResourceNotFound(f"Loop {name} has no answer {answer + 1}.")
        template = loop.template

        def render() -> str:
            task_input = json.loads(loop.input_content)
            return render_template(
                template, task_input, grant_read_access=services.urls.grant_read_access
            )

        status = 200
        try:
            rendered = await asyncio.to_thread(render)
        except (TemplateRenderError, ValueError) as exc:
            status = 422
            rendered = f'<p role="alert">The template fails on this input: {escape(str(exc))}</p>'
        if shown is not None:
            rendered += answer_fill(shown)
        return pages.frame(request, rendered, status)

    @router.get("/loops/{name}/output.json")
    async def loop_output(request: Request, name: str, session: ConsoleSignedIn) -> Response:
        loop = await state(request).console.loop(name)
        bucket, key = split_s3_uri(loop.output_uri)
        try:
            data = await asyncio.to_thread(services.blobs.get, bucket, key)
        except BlobNotFound:
            raise ResourceNotFound(f"Loop {name} has no output file (yet).") from None
        return Response(
            data,
            media_type="application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{name}-output.json"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @router.get("/loops/{name}/{action}")
    async def confirm_action(
        request: Request, name: str, action: str, session: ConsoleSignedIn
    ) -> Response:
        if action not in ("stop", "delete"):
            raise ResourceNotFound(f"No page {action} for loop {name}.")
        loop = await state(request).console.loop(name)
        return pages.page(
            request, "confirm.html", session=session, nav="overview", hl=loop, action=action
        )

    @router.post("/loops/{name}/stop")
    async def stop_loop(request: Request, name: str, session: ConsoleForm) -> Response:
        await services.human_loops.stop(name)
        return RedirectResponse(f"/console/loops/{quote(name)}?done=stopped", status_code=303)

    @router.post("/loops/{name}/delete")
    async def delete_loop(request: Request, name: str, session: ConsoleForm) -> Response:
        loop = await state(request).console.loop(name)
        await services.human_loops.delete(name)
        target = f"/console/flows/{quote(loop.flow_definition_name)}?deleted={quote(name)}"
        return RedirectResponse(target, status_code=303)

    return router


def answer_fill(answer: Any) -> str:
    """A script (inline: the frame's policy allows it) that fills the task's form with an
    answer once the elements are ready, then makes it read-only."""
    data = json.dumps(answer, ensure_ascii=True).replace("</", "<\\/")
    return (
        f'\n<script type="application/json" id="hl-console-answer">{data}</script>\n'
        '<script src="/static/console-answer-fill.js"></script>\n'
    )


async def _read_output(services: Services, uri: str) -> tuple[str | None, int | None]:
    """The output file as indented JSON when it is small enough to show; its size."""
    bucket, key = split_s3_uri(uri)
    try:
        data = await asyncio.to_thread(services.blobs.get, bucket, key)
    except BlobNotFound:
        return None, None
    if len(data) > OUTPUT_SHOWN_BYTES:
        return None, len(data)
    try:
        return json.dumps(json.loads(data), indent=2, ensure_ascii=False), len(data)
    except ValueError:
        return data.decode("utf-8", "replace"), len(data)


def mount_console(portal: FastAPI, services: Services) -> None:
    """Add the console's routes and state to the portal app."""
    templates = make_templates()
    pages = ConsolePages(services, templates)
    state = ConsoleState(
        services=services,
        requesters=open_requesters(services.db, services.clock, services.settings),
        console=Console(
            services.db,
            services.clock,
            max_delivery_attempts=services.settings.webhook_max_attempts,
        ),
        exports=Exports(Path(services.settings.data_dir) / "console-exports"),
    )
    state.extra["pages"] = pages
    portal.state.console = state
    # Sign-in through the workforce's provider; web/oidc.py hands it the console's answers.
    provider_sign_in = ConsoleProviderSignIn(services, pages)
    portal.state.console_answers = provider_sign_in
    portal.include_router(provider_sign_in.router)
    portal.include_router(console_router(services, pages, provider_sign_in))
    portal.include_router(admin_router(services, pages))
    portal.include_router(data_router(services, pages))


__all__ = ["ConsoleNotSignedIn", "error_page", "mount_console"]
