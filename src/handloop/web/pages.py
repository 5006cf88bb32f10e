"""The portal's pages: sign-in and sign-up, the jobs of a worker's teams, the task page
and its sandboxed frame. Server-rendered; the only scripts are static files."""

from __future__ import annotations

import asyncio
import mimetypes
from html import escape
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from handloop.blobs import BlobNotFound
from handloop.errors import HandloopError, NotSignedIn, ValidationError
from handloop.services import Services
from handloop.templating import TemplateRenderError, object_path, render_template
from handloop.templating.prerender import prerender_markdown
from handloop.web.frame import frame_document, order_seed
from handloop.web.oidc import OidcPages
from handloop.web.security import (
    FORM_COOKIE,
    SESSION_COOKIE,
    FormChange,
    PublicForm,
    SignedInSession,
    form_token,
    frame_csp,
    secure_headers,
    set_cookie,
    set_session_cookie,
    sign_in,
)

TEMPLATES = Path(__file__).parent / "templates"
FORM_MAX_AGE = 3600


def local_path(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def origin_of(request: Request, services: Services) -> str:
    """The origin browsers load the portal from: the configured public URL's (right behind
    a TLS-terminating proxy), else the request's."""
    if services.settings.public_url:
        parts = urlsplit(services.settings.public_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.url.scheme}://{request.url.netloc}"


def page_router(services: Services, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    # OIDC sign-in: its own routes, and the first say on sign-in, sign-up and sign-out.
    oidc = OidcPages(services, templates)
    router.include_router(oidc.router)

    def page(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
        response = templates.TemplateResponse(request, name, context, status_code=status)
        secure_headers(response)
        return response

    def form_page(request: Request, name: str, status: int = 200, **context: object) -> Response:
        token = form_token(request)
        response = page(request, name, status, form_token=token, **context)
        set_cookie(response, request, services, FORM_COOKIE, token, FORM_MAX_AGE)
        return response

    # -- signing in and out ------------------------------------------------------------------

    @router.get("/signin")
    async def signin_form(request: Request, next: str = "/") -> Response:
        if redirect := await oidc.sign_in(request, local_path(next)):
            return redirect
        return form_page(request, "signin.html", next=local_path(next), error=None, email="")

    @router.post("/signin", dependencies=[PublicForm])
    async def signin(
        request: Request,
        email: Annotated[str, Form(max_length=254)],
        password: Annotated[str, Form(max_length=1024)],
        next: Annotated[str, Form(max_length=2048)] = "/",
    ) -> Response:
        if await services.oidc.provider() is not None:
            return RedirectResponse(f"/signin?next={quote(local_path(next))}", status_code=303)
        try:
            _, token, _ = await sign_in(request, email, password)
        except HandloopError as exc:
            status = 401 if isinstance(exc, NotSignedIn) else exc.status
            return form_page(
                request,
                "signin.html",
                status,
                next=local_path(next),
                error=exc.message,
                email=email,
            )
        response = RedirectResponse(local_path(next), status_code=303)
        set_session_cookie(response, request, services, token)
        return response

    @router.post("/signout")
    async def signout(request: Request, session: FormChange) -> Response:
        await services.sessions.end(request.cookies[SESSION_COOKIE])
        response = await oidc.sign_out(request) or RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/join/{token}")
    async def join_form(request: Request, token: str) -> Response:
        await oidc.refuse_passwords()
        email = await asyncio.to_thread(services.workers.invitation_email, token)
        return form_page(request, "join.html", email=email, error=None)

    @router.post("/join/{token}", dependencies=[PublicForm])
    async def join(
        request: Request,
        token: str,
        password: Annotated[str, Form(max_length=1024)],
        password_again: Annotated[str, Form(max_length=1024)],
    ) -> Response:
        await oidc.refuse_passwords()
        email = await asyncio.to_thread(services.workers.invitation_email, token)
        try:
            if password != password_again:
                raise ValidationError("The two passwords differ.")
            worker = await services.workers.accept_invitation(token, password)
        except ValidationError as exc:
            return form_page(request, "join.html", 400, email=email, error=exc.message)
        session_token, _ = await services.sessions.start(worker)
        response = RedirectResponse("/", status_code=303)
        set_session_cookie(response, request, services, session_token)
        return response

    # -- work --------------------------------------------------------------------------------

    @router.get("/")
    async def home(request: Request, session: SignedInSession) -> Response:
        jobs = await services.tasks.jobs(session.worker)
        return page(request, "home.html", session=session, jobs=jobs)

    @router.post("/jobs/{flow}/start")
    async def start_working(flow: str, session: FormChange) -> Response:
        task = await services.tasks.claim(session.worker, flow)
        target = f"/tasks/{task.public_id}" if task else f"/jobs/{quote(flow)}/done"
        return RedirectResponse(target, status_code=303)

    @router.get("/jobs/{flow}/done")
    async def no_more_tasks(request: Request, flow: str, session: SignedInSession) -> Response:
        jobs = {j.flow_definition_name: j for j in await services.tasks.jobs(session.worker)}
        return page(request, "done.html", session=session, job=jobs.get(flow))

    @router.get("/tasks/{task_id}")
    async def task_page(request: Request, task_id: str, session: SignedInSession) -> Response:
        task = await services.tasks.get(session.worker, task_id)
        lease_ms = max(0, (task.lease_until_us - services.clock()) // 1000)
        return page(request, "task.html", session=session, task=task, lease_ms=lease_ms)

    @router.get("/tasks/{task_id}/frame")
    async def task_frame(request: Request, task_id: str, session: SignedInSession) -> Response:
        task = await services.tasks.get(session.worker, task_id)

        def render() -> str:
            rendered = render_template(
                task.template,
                task.input,
                grant_read_access=services.urls.grant_read_access,
            )
            return prerender_markdown(rendered)

        status = 200
        try:
            # In a worker thread: a template running up to its time limit must not stop the
            # server answering everyone else meanwhile.
            rendered = await asyncio.to_thread(render)
        except TemplateRenderError as exc:
            status = 422
            rendered = (
                '<p role="alert">This task cannot be shown: its template fails on this input '
                f"({escape(str(exc))}). Release or decline it and tell the requester.</p>"
            )
        origin = origin_of(request, services)
        document = frame_document(
            rendered, static_base=f"{origin}/static", seed=order_seed(task.public_id)
        )
        response = HTMLResponse(document, status_code=status)
        secure_headers(response, frame_csp(origin))
        return response

    @router.get("/objects/{bucket}/{key:path}")
    async def granted_object(request: Request, bucket: str, key: str) -> Response:
        """An output-store object a template granted with ``grant_read_access``."""
        path = object_path(f"s3://{bucket}/{key}")
        params = request.query_params
        if not services.urls.verify(path, params.get("expires"), params.get("signature")):
            return Response("This link is not valid or has expired.", status_code=403)
        try:
            data = await asyncio.to_thread(services.blobs.get, bucket, key)
        except BlobNotFound:
            return Response("No such object.", status_code=404)
        return Response(
            data,
            media_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
            headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return router
