"""Rendering a worker task template with a task's input."""

from __future__ import annotations

import functools
import re
from typing import Any

from liquid import BoundTemplate
from liquid.exceptions import LiquidError, ResourceLimitError

from handloop.errors import ValidationError
from handloop.templating.environment import GRANT_READ_ACCESS, GrantReadAccess, environment
from handloop.templating.syntax import check_syntax


class TemplateRenderError(ValidationError):
    """A template that cannot be parsed or rendered, or that hit a resource limit."""

    def __init__(self, message: str, line: int | None = None, *, limit: bool = False) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}{message}")
        self.message = message
        self.line = line
        self.limit = limit


def _too_deep() -> TemplateRenderError:
    return TemplateRenderError("resource limit: the template nests too deeply", limit=True)


def _line_of(exc: LiquidError) -> int | None:
    context = exc.context()
    if context is not None:
        return context[0]
    return None


def error_from(exc: LiquidError) -> TemplateRenderError:
    message = str(exc.message if exc.message is not None else exc.__class__.__name__)
    limit = isinstance(exc, ResourceLimitError)
    if limit:
        message = f"resource limit: {message}"
    return TemplateRenderError(message, _line_of(exc), limit=limit)


# ``attr="{{ x | to_json }}"``: JSON's double quotes would end the attribute. AWS's
# templates write ``| to_json | escape`` there; an output that is the whole value of a
# double-quoted attribute and ends in ``to_json`` gets that ``escape`` added, so the JSON
# arrives intact (and a template that was broken works). No newline is added, so error
# line numbers stay those of the source.
_JSON_IN_DOUBLE_QUOTES = re.compile(
    r'(=[ \t]*"\{\{-?)((?:(?!\}\})[^"\n])*?\|[ \t]*to_json)([ \t]*-?\}\}")'
)


def quote_json_attributes(source: str) -> str:
    """``source`` with ``| escape`` after each ``to_json`` that fills a double-quoted
    attribute."""
    if "to_json" not in source:
        return source
    return _JSON_IN_DOUBLE_QUOTES.sub(r"\1\2 | escape\3", source)


@functools.lru_cache(maxsize=256)
def _parse(source: str) -> BoundTemplate:
    return environment().from_string(quote_json_attributes(source))


def parse(source: str) -> BoundTemplate:
    """The parsed template (cached by source text); raises TemplateRenderError."""
    try:
        return _parse(source)
    except LiquidError as exc:
        error = error_from(exc)
        if error.line is None:
            # The parser could not place it; the syntax checker's search can.
            problems = check_syntax(source)
            line = problems[0].line if problems else None
            error = TemplateRenderError(error.message, line, limit=error.limit)
        raise error from None
    except RecursionError:
        raise _too_deep() from None


def render_template(
    source: str,
    task_input: Any,
    *,
    grant_read_access: GrantReadAccess | None = None,
) -> str:
    """Render ``source`` with ``task.input`` = ``task_input`` (the parsed InputContent).

    ``grant_read_access`` maps an ``s3://`` URI to a short-lived URL; without it the
    filter leaves URIs unchanged.
    """
    template = parse(source)
    token = GRANT_READ_ACCESS.set(grant_read_access)
    try:
        return template.render(task={"input": task_input})
    except LiquidError as exc:
        raise error_from(exc) from None
    except RecursionError:
        raise _too_deep() from None
    finally:
        GRANT_READ_ACCESS.reset(token)
