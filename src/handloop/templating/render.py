"""Rendering a worker task template for one task: ``task.input`` is the loop's input.

Output is HTML-escaped by default, quotes included, as in Ground Truth.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from liquid import Environment
from liquid.exceptions import LiquidError
from markupsafe import Markup

from handloop.errors import ValidationError


class TemplateRenderError(ValidationError):
    """A template that cannot be rendered with this input; ``line`` is 1-based (0: unknown)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message


def _to_json(value: Any) -> Markup:
    text = json.dumps(value, ensure_ascii=False)
    # Safe inside <script> and in attributes: nothing that ends either can appear.
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(raw, escaped)
    return Markup(text)


def _environment(grant: Callable[[str], str]) -> Environment:
    env = Environment(autoescape=True)
    env.filters["to_json"] = _to_json
    env.filters["skip_autoescape"] = lambda value: Markup(str(value))
    env.filters["grant_read_access"] = lambda value: grant(str(value))
    env.filters["escape_once"] = lambda value: Markup.escape(Markup(str(value)).unescape())
    return env


def _printable(value: Any) -> Any:
    """Objects and arrays print as JSON (what AWS's sample templates expect)."""
    if isinstance(value, dict):
        return _JsonDict({k: _printable(v) for k, v in value.items()})
    if isinstance(value, list):
        return _JsonList(_printable(v) for v in value)
    return value


class _JsonDict(dict[str, Any]):
    def __str__(self) -> str:
        return json.dumps(self, ensure_ascii=False)


class _JsonList(list[Any]):
    def __str__(self) -> str:
        return json.dumps(self, ensure_ascii=False)


def render_template(
    source: str,
    task_input: Any,
    *,
    grant_read_access: Callable[[str], str] | None = None,
) -> str:
    """The HTML of ``source`` rendered for ``task_input``."""
    env = _environment(grant_read_access or (lambda uri: uri))
    try:
        return env.from_string(source).render(task={"input": _printable(task_input)})
    except LiquidError as exc:
        token = getattr(exc, "token", None)
        line = 0
        if token is not None and getattr(token, "start_index", -1) >= 0:
            line = source.count("\n", 0, token.start_index) + 1
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        raise TemplateRenderError(str(message), line) from None
