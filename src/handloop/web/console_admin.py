"""The console's templates (task UIs, an editor with a live preview, save as a new task
UI), workforce (teams, groups, workers; invite, disable, change groups; figures per
worker) and webhooks (add, remove, recent deliveries, retry one)."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from handloop.domain.records import HumanTaskUi, member_groups
from handloop.errors import HandloopError, ResourceNotFound, ValidationError
from handloop.services import Services
from handloop.services.console import Problem, render_preview
from handloop.web.console_base import ConsolePages
from handloop.web.console_security import ConsoleForm, ConsoleJson, ConsoleSignedIn, console_state

# A2I's HumanTaskUiName: lower-case letters, digits and hyphens, at most 63.
_UI_NAME = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")
# A template and its sample input, as the editor posts them (A2I takes templates up to
# 128 KB; the request body may be larger once form-encoded, see web/bounds.py).
TEMPLATE_CHARS = 128_000
INPUT_CHARS = 100_000

STARTER_TEMPLATE = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <p>{{ task.input.text }}</p>
  <crowd-radio-group>
    <crowd-radio-button name="good" value="good">Good</crowd-radio-button>
    <crowd-radio-button name="bad" value="bad">Bad</crowd-radio-button>
  </crowd-radio-group>
</crowd-form>
"""
STARTER_INPUT = '{\n  "text": "Is this sentence well written?"\n}\n'


async def all_task_uis(services: Services) -> list[HumanTaskUi]:
    found: list[HumanTaskUi] = []
    token = None
    while True:
        page = await services.human_task_uis.page(
            created_after=None, created_before=None, ascending=True, token=token, max_results=100
        )
        found += page.items
        token = page.next_token
        if not token:
            return found


def check_ui_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 63 or not _UI_NAME.match(name):
        raise ValidationError(
            "A task UI name is 1 to 63 lower-case letters, digits and hyphens, starting and "
            "ending with a letter or digit."
        )
    return name


def admin_router(services: Services, pages: ConsolePages) -> APIRouter:
    router = APIRouter(prefix="/console", include_in_schema=False)

    # -- templates ---------------------------------------------------------------------------

    @router.get("/templates")
    async def templates_page(
        request: Request,
        session: ConsoleSignedIn,
        created: Annotated[str, Query(max_length=63)] = "",
    ) -> Response:
        uis = await all_task_uis(services)
        flows = await services.flow_definitions.page(
            created_after=None, created_before=None, ascending=True, token=None, max_results=100
        )
        used: dict[str, list[str]] = {}
        for flow in flows.items:
            used.setdefault(flow.human_task_ui_name, []).append(flow.name)
        return pages.page(
            request,
            "templates.html",
            session=session,
            nav="templates",
            uis=uis,
            used=used,
            created=created,
        )

    async def editor(
        request: Request,
        session: Any,
        *,
        name: str,
        content: str,
        sample: str,
        problems: list[Problem] | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        return pages.page(
            request,
            "editor.html",
            status,
            session=session,
            nav="templates",
            name=name,
            content=content,
            sample=sample,
            problems=problems or [],
            error=error,
        )

    @router.get("/templates/new")
    async def new_template(
        request: Request,
        session: ConsoleSignedIn,
        start: Annotated[str, Query(alias="from", max_length=63)] = "",
    ) -> Response:
        content, name, sample = STARTER_TEMPLATE, "", STARTER_INPUT
        if start:
            ui = await services.human_task_uis.get(start)
            content, name = ui.content, f"{ui.name}-v2"[:63]
            sample = await console_state(request).console.sample_input(ui.name) or "{}\n"
        return await editor(request, session, name=name, content=content, sample=sample)

    @router.post("/templates/preview")
    async def preview_frame(
        request: Request,
        session: ConsoleForm,
        content: Annotated[str, Form(max_length=TEMPLATE_CHARS)] = "",
        sample: Annotated[str, Form(max_length=INPUT_CHARS)] = "{}",
    ) -> Response:
        """The preview frame's document: the template rendered with the sample input, or
        its problems with their lines."""
        preview = await asyncio.to_thread(
            render_preview, content, sample, services.urls.grant_read_access
        )
        if preview.problems:
            items = "".join(f"<li>{_problem_html(p)}</li>" for p in preview.problems)
            body = (
                '<div role="alert"><p><strong>This template cannot be shown:</strong></p>'
                f"<ul>{items}</ul></div>"
            )
            return pages.frame(request, body, 200)
        return pages.frame(request, preview.rendered, seed="console-preview")

    @router.post("/api/templates/check")
    async def check_template(request: Request, session: ConsoleJson) -> Response:
        """The editor's script: the template's problems with their lines (JSON body
        ``{"content", "sample"}``), as the preview would show them."""
        body = await _json_body(request)
        content, sample = body.get("content"), body.get("sample", "{}")
        if not isinstance(content, str) or not isinstance(sample, str):
            raise ValidationError("Send the template as content and the sample input as sample.")
        if len(content) > TEMPLATE_CHARS or len(sample) > INPUT_CHARS:
            raise ValidationError(
                f"The template can have at most {TEMPLATE_CHARS:,} characters and the sample "
                f"input {INPUT_CHARS:,}."
            )
        preview = await asyncio.to_thread(
            render_preview, content, sample, services.urls.grant_read_access
        )
        return JSONResponse({"problems": [p.describe() for p in preview.problems]})

    @router.post("/templates")
    async def save_template(
        request: Request,
        session: ConsoleForm,
        name: Annotated[str, Form(max_length=200)] = "",
        content: Annotated[str, Form(max_length=TEMPLATE_CHARS)] = "",
        sample: Annotated[str, Form(max_length=INPUT_CHARS)] = "{}",
    ) -> Response:
        """Save the editor's template as a new task UI (CreateHumanTaskUi's checks)."""
        try:
            checked = check_ui_name(name)
            problems = (
                await asyncio.to_thread(
                    render_preview, content, sample, services.urls.grant_read_access
                )
            ).problems
            template_problems = [p for p in problems if p.where == "template"]
            if template_problems:
                return await editor(
                    request,
                    session,
                    name=name,
                    content=content,
                    sample=sample,
                    problems=problems,
                    error="Not saved: the template has problems (below).",
                    status=400,
                )
            await services.human_task_uis.create(checked, content, None)
        except HandloopError as exc:
            return await editor(
                request,
                session,
                name=name,
                content=content,
                sample=sample,
                error=f"Not saved: {exc.message}",
                status=400,
            )
        return RedirectResponse(f"/console/templates?created={quote(checked)}", status_code=303)

    # -- workforce ---------------------------------------------------------------------------

    async def workforce_page(
        request: Request,
        session: Any,
        *,
        invited: str | None = None,
        link: str | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response:
        console = console_state(request).console
        teams = await services.workteams.list_all()
        workers = await asyncio.to_thread(services.workers.list_all)
        figures = await console.worker_figures()
        groups = await console.groups()
        flows = await services.flow_definitions.page(
            created_after=None, created_before=None, ascending=True, token=None, max_results=100
        )
        team_flows: dict[str, list[str]] = {}
        for flow in flows.items:
            team_flows.setdefault(flow.workteam_name, []).append(flow.name)
        quality = await _quality_figures(services, [f.name for f in flows.items])
        return pages.page(
            request,
            "workforce.html",
            status,
            session=session,
            nav="workforce",
            teams=[(t, member_groups(t.config), team_flows.get(t.name, [])) for t in teams],
            workers=workers,
            figures=figures,
            groups=groups,
            quality=quality,
            invited=invited,
            link=link,
            error=error,
            invitation_hours=services.settings.invitation_hours,
        )

    @router.get("/workforce")
    async def workforce(request: Request, session: ConsoleSignedIn) -> Response:
        return await workforce_page(request, session)

    @router.post("/workforce/invite")
    async def invite(
        request: Request,
        session: ConsoleForm,
        email: Annotated[str, Form(max_length=254)] = "",
        groups: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        try:
            token = await asyncio.to_thread(services.workers.invite, email, _split(groups))
        except HandloopError as exc:
            return await workforce_page(request, session, error=exc.message, status=400)
        link = f"{services.settings.effective_public_url}/join/{token}"
        return await workforce_page(request, session, invited=email, link=link)

    @router.post("/workforce/workers/{worker}/disable")
    async def disable(request: Request, worker: str, session: ConsoleForm) -> Response:
        await asyncio.to_thread(services.workers.set_disabled, worker, True)
        return RedirectResponse("/console/workforce", status_code=303)

    @router.post("/workforce/workers/{worker}/enable")
    async def enable(request: Request, worker: str, session: ConsoleForm) -> Response:
        await asyncio.to_thread(services.workers.set_disabled, worker, False)
        return RedirectResponse("/console/workforce", status_code=303)

    @router.post("/workforce/workers/{worker}/groups")
    async def change_groups(
        request: Request,
        worker: str,
        session: ConsoleForm,
        add: Annotated[str, Form(max_length=2000)] = "",
        remove: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        try:
            await asyncio.to_thread(
                services.workers.set_groups, worker, _split(add), _split(remove)
            )
        except HandloopError as exc:
            return await workforce_page(request, session, error=exc.message, status=400)
        return RedirectResponse("/console/workforce", status_code=303)

    # -- webhooks ----------------------------------------------------------------------------

    async def webhooks_page(
        request: Request,
        session: Any,
        *,
        error: str | None = None,
        status: int = 200,
        added: str | None = None,
    ) -> Response:
        console = console_state(request).console
        hooks = await asyncio.to_thread(services.events.list_webhooks)
        recent = await console.deliveries()
        return pages.page(
            request,
            "webhooks.html",
            status,
            session=session,
            nav="webhooks",
            webhooks=hooks,
            deliveries=recent,
            error=error,
            added=added,
            max_attempts=services.settings.webhook_max_attempts,
        )

    @router.get("/webhooks")
    async def webhooks(request: Request, session: ConsoleSignedIn) -> Response:
        return await webhooks_page(request, session)

    @router.post("/webhooks")
    async def add_webhook(
        request: Request,
        session: ConsoleForm,
        url: Annotated[str, Form(max_length=2048)] = "",
        secret: Annotated[str, Form(max_length=1024)] = "",
    ) -> Response:
        try:
            await asyncio.to_thread(services.events.add_webhook, url.strip(), secret)
        except HandloopError as exc:
            return await webhooks_page(request, session, error=exc.message, status=400)
        return RedirectResponse("/console/webhooks", status_code=303)

    @router.post("/webhooks/remove")
    async def remove_webhook(
        request: Request, session: ConsoleForm, url: Annotated[str, Form(max_length=2048)] = ""
    ) -> Response:
        await asyncio.to_thread(services.events.remove_webhook, url)
        return RedirectResponse("/console/webhooks", status_code=303)

    @router.post("/webhooks/deliveries/{event_id}/{webhook_id}/retry")
    async def retry_delivery(
        request: Request, event_id: int, webhook_id: int, session: ConsoleForm
    ) -> Response:
        await console_state(request).console.retry_delivery(event_id, webhook_id)
        # Delivered by the scheduler's next round; started here so it goes at once.
        await services.events.start_deliveries()
        return RedirectResponse("/console/webhooks", status_code=303)

    return router


def _split(groups: str) -> list[str]:
    """Group names from a text field: separated by commas or new lines."""
    return [g.strip() for g in re.split(r"[,\n]", groups) if g.strip()]


def _problem_html(problem: Problem) -> str:
    from html import escape

    where = "sample input" if problem.where == "input" else "template"
    at = f"{where}, line {problem.line}" if problem.line else where
    if problem.line and problem.column:
        at += f", column {problem.column}"
    return f"<strong>{escape(at)}</strong>: {escape(problem.message)} ({escape(problem.code)})"


async def _json_body(request: Request) -> dict[str, Any]:
    from handloop.domain import json_values

    body = json_values.parse(await request.body(), "The request body")
    if not isinstance(body, dict):
        raise ValidationError("The request body is a JSON object.")
    return body


async def _quality_figures(services: Services, flows: list[str]) -> dict[str, list[dict[str, Any]]]:
    """worker id -> their quality figures per flow, where the quality service keeps them
    (``services.quality.workers(flow)``); empty without it."""
    quality = getattr(services, "quality", None)
    workers_of = getattr(quality, "workers", None)
    if workers_of is None:
        return {}
    found: dict[str, list[dict[str, Any]]] = {}
    for flow in flows:
        try:
            records = await workers_of(flow)
        except (HandloopError, ResourceNotFound):
            continue
        for record in records:
            figures = getattr(record, "figures", None)
            found.setdefault(str(getattr(record, "worker_id", "")), []).append(
                {
                    "flow": flow,
                    "agreement": getattr(figures, "agreement", None),
                    "gold": getattr(figures, "gold_accuracy", None),
                    "trust": getattr(record, "trust", None),
                    "paused": bool(getattr(record, "paused", False)),
                }
            )
    return found


__all__ = ["admin_router"]
