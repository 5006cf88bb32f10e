"""The worker portal application (pages for people; the AWS APIs live in ``protocols``)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from handloop import __version__
from handloop.errors import HandloopError, NotSignedIn, ResourceNotFound, ValidationError
from handloop.services import Services
from handloop.web.api import api_router
from handloop.web.bounds import Refusal, RequestBounds
from handloop.web.console import error_page as console_error_page
from handloop.web.console import mount_console
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

    def __init__(self, app: ASGIApp, check: AddressCheck, refuse: Refusal) -> None:
        self.app = app
        self.check = check
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/healthz":
            request = Request(scope)
            try:
                await self.check.check(request)
            except HandloopError as exc:
                await self.refuse(request, exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _status(exc: HandloopError) -> int:
    return 404 if isinstance(exc, ResourceNotFound) else exc.status


# The codes of framework errors (unknown path, wrong method, unreadable body) on /api, as
# the portal's own errors name them.
_HTTP_CODES = {
    400: ValidationError.code,
    404: ResourceNotFound.code,
    405: "MethodNotAllowed",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _invalid_request(exc: RequestValidationError) -> ValidationError:
    """What was wrong with a request's parameters or body, in words (never echoing the
    input, which may be something JSON cannot even carry)."""
    problems = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(f"{where}: {error.get('msg', 'invalid')}" if where else error["msg"])
    return ValidationError("Invalid request: " + "; ".join(problems) + ".")


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
    portal.state.services = services
    templates = Jinja2Templates(directory=str(TEMPLATES))
    addresses = AddressCheck(services)

    def error_response(request: Request, exc: HandloopError, status: int | None = None) -> Response:
        """Every portal error: JSON ``{"detail", "code"}`` under /api, else a page."""
        status = status or _status(exc)
        if f"{request.url.path}/".startswith("/console/"):  # the requester console's pages
            return console_error_page(request, exc, status)
        if _is_api(request):
            return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=status)
        if isinstance(exc, NotSignedIn) and request.method == "GET":
            return RedirectResponse(f"/signin?next={quote(request.url.path)}", status_code=303)
        response = templates.TemplateResponse(
            request, "error.html", {"message": exc.message, "status": status}, status_code=status
        )
        secure_headers(response)
        return response

    portal.add_middleware(AddressGuard, check=addresses, refuse=error_response)
    # Outermost: nothing reads a body, even to refuse an address, before its size is known.
    portal.add_middleware(RequestBounds, refuse=error_response)

    @portal.exception_handler(HandloopError)
    async def handloop_error(request: Request, exc: HandloopError) -> Response:
        return error_response(request, exc)

    @portal.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, _invalid_request(exc), status=422)

    @portal.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not _is_api(request):
            return await http_exception_handler(request, exc)
        error = HandloopError(str(exc.detail))
        error.code = _HTTP_CODES.get(exc.status_code, "HttpError")
        response = error_response(request, error, status=exc.status_code)
        response.headers.update(exc.headers or {})
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
    mount_console(portal, services)  # the requester console, /console (web/console.py)
    portal.mount("/static", CachedStatic(directory=str(STATIC)), name="static")
    return portal
