"""The worker portal application (pages for people; the AWS APIs live in ``protocols``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from handloop import __version__
from handloop.errors import HandloopError, NotSignedIn, ResourceNotFound
from handloop.services import Services
from handloop.web.api import api_router
from handloop.web.pages import TEMPLATES, page_router
from handloop.web.security import AddressCheck, secure_headers

STATIC = Path(__file__).parent / "static"


class CachedStatic(StaticFiles):
    """Static files with a short cache lifetime; ETags make revalidation cheap. They are
    public: the sandboxed task frame has an opaque origin, so its module scripts (the
    element library) are cross-origin requests that need CORS."""

    def file_response(self, *args: object, **kwargs: object) -> Response:
        response = super().file_response(*args, **kwargs)  # type: ignore[arg-type]
        response.headers["Cache-Control"] = "public, max-age=300"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response


class AddressGuard:
    """Refuses requests from outside the workforce's CIDRs before they reach a route (a plain
    ASGI middleware: no per-request task, unlike ``@app.middleware``)."""

    def __init__(self, app: ASGIApp, check: AddressCheck) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/healthz":
            try:
                await self.check.check(Request(scope))
            except HandloopError as exc:
                await PlainTextResponse(exc.message, status_code=exc.status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _status(exc: HandloopError) -> int:
    return 404 if isinstance(exc, ResourceNotFound) else exc.status


def create_portal(services: Services) -> FastAPI:
    portal = FastAPI(
        title="handloop worker portal",
        version=__version__,
        description="The JSON endpoints the worker portal's pages use; scripts can drive a "
        "worker with them too. Sign in with POST /api/session (it sets the session cookie), "
        "then send the CSRF token it returns as X-CSRF-Token on every POST and DELETE.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    templates = Jinja2Templates(directory=str(TEMPLATES))
    addresses = AddressCheck(services)

    portal.add_middleware(AddressGuard, check=addresses)

    @portal.exception_handler(HandloopError)
    async def handloop_error(request: Request, exc: HandloopError) -> Response:
        status = _status(exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=status)
        if isinstance(exc, NotSignedIn) and request.method == "GET":
            return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)
        response = templates.TemplateResponse(
            request, "error.html", {"message": exc.message, "status": status}, status_code=status
        )
        secure_headers(response)
        return response

    @portal.get("/healthz", response_class=PlainTextResponse, include_in_schema=False)
    async def healthz() -> str:
        return "ok"

    @portal.get(
        "/human-task-uis/{name}/template.liquid",
        response_class=PlainTextResponse,
        include_in_schema=False,
    )
    async def template_file(name: str, request: Request) -> str:
        """The template a DescribeHumanTaskUi ``UiTemplate.Url`` points at (signed, short-lived)."""
        path = request.url.path
        if not services.urls.verify(
            path, request.query_params.get("expires"), request.query_params.get("signature")
        ):
            raise HTTPException(403, "This link is not valid or has expired.")
        try:
            ui = await services.human_task_uis.get(name)
        except ResourceNotFound:
            raise HTTPException(404, "No such template.") from None
        return ui.content

    portal.include_router(api_router(services))
    portal.include_router(page_router(services, templates))
    portal.mount("/static", CachedStatic(directory=str(STATIC)), name="static")
    return portal
