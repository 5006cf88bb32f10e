"""RenderUiTemplate: a template rendered with a sample task, problems listed in ``Errors``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from handloop.domain import json_values
from handloop.errors import ValidationError
from handloop.services import Services
from handloop.templating import TemplateRenderError, check_syntax, render_template


def _error(code: str, message: str) -> dict[str, Any]:
    return {"RenderedContent": "", "Errors": [{"Code": code, "Message": message}]}


async def render_ui_template(s: Services, p: dict[str, Any]) -> dict[str, Any]:
    if "UiTemplate" in p and "HumanTaskUiArn" in p:
        raise ValidationError("Specify either UiTemplate or HumanTaskUiArn, not both.")
    if "UiTemplate" in p:
        source = p["UiTemplate"]["Content"]
    elif "HumanTaskUiArn" in p:
        name = s.arns.name_from("human-task-ui", p["HumanTaskUiArn"], field="HumanTaskUiArn")
        source = (await s.human_task_uis.get(name)).content
    else:
        raise ValidationError("Specify UiTemplate or HumanTaskUiArn.")
    # Parsing and rendering run in a worker thread: a template that runs up to its time
    # limit must not stop the server answering everyone else meanwhile.
    return await asyncio.to_thread(_render, source, p["Task"]["Input"], s.urls.grant_read_access)


def _render(source: str, input_text: str, grant: Callable[[str], str]) -> dict[str, Any]:
    try:
        task_input = json_values.parse(input_text, "Task.Input")
    except ValidationError as exc:  # not JSON, or beyond handloop's bounds
        return _error("InvalidTaskInput", exc.message)
    problems = check_syntax(source)
    if problems:
        return {
            "RenderedContent": "",
            "Errors": [{"Code": "TemplateSyntaxError", "Message": str(p)} for p in problems],
        }
    try:
        rendered = render_template(source, task_input, grant_read_access=grant)
    except TemplateRenderError as exc:
        code = "ResourceLimitExceeded" if exc.limit else "TemplateRenderError"
        where = f"line {exc.line}: " if exc.line else ""
        return _error(code, f"{where}{exc.message}")
    return {"RenderedContent": rendered, "Errors": []}
