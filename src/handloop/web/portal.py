"""The worker portal application (pages for people; the AWS APIs live in ``protocols``)."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from handloop import __version__
from handloop.errors import ResourceNotFound
from handloop.services import Services


def create_portal(services: Services) -> FastAPI:
    portal = FastAPI(title="handloop worker portal", version=__version__, docs_url="/api/docs")

    @portal.get("/healthz", response_class=PlainTextResponse, include_in_schema=False)
    async def healthz() -> str:
        return "ok"

    @portal.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def home() -> str:
        return (
            "<!doctype html><html lang=en><meta charset=utf-8><title>handloop</title>"
            "<h1>handloop</h1><p>The worker portal.</p></html>"
        )

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

    return portal
