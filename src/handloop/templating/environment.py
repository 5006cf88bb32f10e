"""The Liquid environment with Ground Truth's rules: autoescaping (quotes included), the
Ground Truth filters, objects and arrays printed as JSON, and resource limits."""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable
from contextvars import ContextVar
from io import StringIO
from typing import Any, ClassVar

from liquid import Environment, Markup, Undefined
from liquid.builtin.output import Output, OutputNode
from liquid.context import RenderContext
from liquid.exceptions import FilterValueError, OutputStreamLimitError
from liquid.template import BoundTemplate
from liquid.token import TOKEN_OUTPUT

from handloop.errors import HandloopError
from handloop.templating.grants import BLOCKED_LINK, allowed_link
from handloop.templating.limits import (
    MAX_LOCAL_NAMESPACE_BYTES,
    MAX_LOOP_ITERATIONS,
    MAX_NESTING,
    MAX_OUTPUT_CHARS,
    LimitedContext,
    check_range,
    limited,
    timed,
)
from handloop.templating.markdown import render_markdown

GrantReadAccess = Callable[[str], str]

# The grant function of the render in progress (renders never share one).
GRANT_READ_ACCESS: ContextVar[GrantReadAccess | None] = ContextVar(
    "grant_read_access", default=None
)

_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "'": "\\u0027",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data: Liquid's Undefined becomes None, ranges become lists."""
    if isinstance(value, Undefined):
        return None
    if isinstance(value, range):
        check_range(value)
        return list(value)
    return value


def json_text(value: Any) -> str:
    """JSON that is safe inside ``<script>`` and HTML attributes (no ``<``, ``>``, ``&``,
    ``'``, U+2028 or U+2029 left raw)."""
    text = json.dumps(_plain(value), ensure_ascii=False, default=str)
    for char, escaped in _JSON_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def stringify(value: Any, autoescape: bool) -> str:
    """How a value prints: strings as themselves, objects and arrays as JSON."""
    if isinstance(value, Undefined) or value is None:
        text: str = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, ensure_ascii=False, default=str)
    elif isinstance(value, range):
        text = f"{value.start}..{value.stop - 1}"
    else:
        text = str(value)
    if autoescape and not isinstance(text, Markup):
        return _escape_text(text)
    return str(text)


def _escape_text(text: str) -> str:
    # Line and paragraph separators end a line in older JavaScript string literals, and
    # templates do write outputs inside '<script>' strings.
    escaped = str(Markup.escape(text))
    return escaped.replace("\u2028", "&#8232;").replace("\u2029", "&#8233;")


class _JsonOutputNode(OutputNode):
    def render_to_output(self, context: RenderContext, buffer: Any) -> int:
        return int(buffer.write(stringify(self.expression.evaluate(context), context.autoescape)))


class _JsonOutput(Output):
    node_class = _JsonOutputNode


def _escape(value: Any) -> Markup:
    # Escapes exactly once, even text already marked safe (`x | to_json | escape` is how the
    # samples put JSON in an attribute); the result is not escaped again on output.
    return Markup(_escape_text(stringify(value, autoescape=False)))


def _escape_once(value: Any) -> Markup:
    text = stringify(value, autoescape=False)
    return Markup(_escape_text(html.unescape(text)))


def _skip_autoescape(value: Any) -> Markup:
    return Markup(stringify(value, autoescape=False))


def _to_json(value: Any) -> Markup:
    return Markup(json_text(value))


def _markdown(value: Any) -> Markup:
    return Markup(render_markdown(stringify(value, autoescape=False)))


def _grant_read_access(value: Any) -> str:
    text = stringify(value, autoescape=False)
    link = allowed_link(text)
    if link is None:
        # A media link never needs script; a script URL here can only be an injection.
        return BLOCKED_LINK
    grant = GRANT_READ_ACCESS.get()
    if grant is None or not link.startswith("s3:"):
        return link
    try:
        return grant(link)
    except (ValueError, HandloopError) as exc:
        message = exc.message if isinstance(exc, HandloopError) else str(exc)
        raise FilterValueError(f"grant_read_access: {message}", token=None) from None


class _LimitedBuffer(StringIO):
    """The output buffer; it stops a render that writes too much."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self._limit = limit
        self._size = 0

    def write(self, s: str) -> int:
        self._size += len(s)
        if self._size > self._limit:
            raise OutputStreamLimitError(
                f"the page is longer than {self._limit} characters", token=None
            )
        return super().write(s)


class _GroundTruthTemplate(BoundTemplate):
    context_class = LimitedContext

    def _get_buffer(self) -> StringIO:
        return _LimitedBuffer(MAX_OUTPUT_CHARS)


class GroundTruthEnvironment(Environment):
    """Liquid as SageMaker Ground Truth and A2I render worker task templates."""

    template_class = _GroundTruthTemplate
    loop_iteration_limit: ClassVar[int | None] = MAX_LOOP_ITERATIONS
    local_namespace_limit: ClassVar[int | None] = MAX_LOCAL_NAMESPACE_BYTES
    output_stream_limit: ClassVar[int | None] = MAX_OUTPUT_CHARS
    block_nesting_limit: ClassVar[int] = MAX_NESTING
    context_depth_limit: ClassVar[int] = MAX_NESTING

    def __init__(self) -> None:
        super().__init__(autoescape=True, strict_filters=True)
        self.tags[TOKEN_OUTPUT] = _JsonOutput(self)
        self.filters["escape"] = _escape
        self.filters["escape_once"] = _escape_once
        self.filters["skip_autoescape"] = _skip_autoescape
        self.filters["to_json"] = _to_json
        self.filters["grant_read_access"] = _grant_read_access
        self.filters["markdown"] = _markdown
        # Every tag checks the render's deadline as it runs, every filter caps its result.
        for tag in self.tags.values():
            node_class = getattr(tag, "node_class", None)
            if node_class is not None:
                tag.node_class = timed(node_class)  # type: ignore[attr-defined]
        for name, filter_ in self.filters.items():
            self.filters[name] = limited(name, filter_)


@functools.cache
def environment() -> GroundTruthEnvironment:
    """The one shared environment (filters and tags are read-only after construction)."""
    return GroundTruthEnvironment()
