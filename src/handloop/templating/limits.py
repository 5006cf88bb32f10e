"""A render's resource limits: a deadline checked at every tag and every filter, and caps on
the values a filter or an assignment may produce, so that no template, on any input, can
hang the server or fill its memory.

Liquid's own limits (loop iterations, local namespace, output stream, block nesting) bound
what a template writes; these bound what it computes without writing: a ``{% liquid %}``
loop that only reassigns, ``replace`` or ``append`` growing a string, ``times`` growing a
number past what Python can print.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cache
from typing import Any, TextIO

from liquid import RenderContext
from liquid.ast import Node
from liquid.exceptions import LiquidError, ResourceLimitError
from liquid.token import Token

from handloop.domain.json_values import MAX_INT_DIGITS, int_too_long

# A rendered page must stay small enough for a browser; AWS caps the template at 128,000
# characters and the input at 3 MB, so a page far above both is a runaway template.
MAX_OUTPUT_CHARS = 8_000_000
MAX_LOOP_ITERATIONS = 100_000
MAX_LOCAL_NAMESPACE_BYTES = 8_000_000
MAX_SEQUENCE_LENGTH = 100_000
MAX_RENDER_SECONDS = 1.0
MAX_NESTING = 30
# No string a filter makes or a tag assigns may be longer than a whole page.
MAX_VALUE_CHARS = MAX_OUTPUT_CHARS
# The `markdown` filter's input. Parsing is one step, which the render's deadline cannot
# interrupt: the worst input measured (100,000 '[') takes about 1 s on a 2-core machine.
# LLM answers are far shorter (100,000 characters is some 25,000 tokens).
MAX_MARKDOWN_CHARS = 100_000


class RenderTimeLimitError(ResourceLimitError):
    """A render that ran longer than ``MAX_RENDER_SECONDS``."""


class ValueLimitError(ResourceLimitError):
    """A value too big to compute: a string, an array or a number past its cap."""


class RenderValueError(LiquidError):
    """A value the template cannot use on this input (Python refused the operation)."""


def _too_late(token: Token | None) -> RenderTimeLimitError:
    return RenderTimeLimitError(f"rendering took longer than {MAX_RENDER_SECONDS:g} s", token=token)


def _too_long() -> ValueLimitError:
    return ValueLimitError(f"a string longer than {MAX_VALUE_CHARS} characters", token=None)


def _too_many(what: str = "an array") -> ValueLimitError:
    return ValueLimitError(f"{what} of more than {MAX_SEQUENCE_LENGTH} items", token=None)


def _too_big_a_number(token: Token | None = None) -> ValueLimitError:
    return ValueLimitError(f"a number with more than {MAX_INT_DIGITS} digits", token=token)


def check_range(value: Any) -> None:
    """A range literal is materialised by some filters: refuse one that would be huge."""
    # Not len(): a range of 10**30 items has no length Python can return.
    if isinstance(value, range) and abs(value.stop - value.start) > MAX_SEQUENCE_LENGTH:
        raise _too_many("a range")


def _printed_size(value: Any, limit: int) -> int:
    """About how many characters ``value`` prints as (the walk stops once past ``limit``).
    An array can hold one long string many times over: each time counts."""
    size = 0
    stack = [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, dict):
            size += 2
            for key, member in item.items():
                size += len(key) + 4 if isinstance(key, str) else 8
                stack.append(member)
        elif isinstance(item, list | tuple):
            size += 2 + len(item)
            stack.extend(item)
        elif isinstance(item, int):
            size += item.bit_length() // 3 + 1
        else:
            size += 24
    return size


def _check_printed(value: Any) -> None:
    if _printed_size(value, MAX_VALUE_CHARS) > MAX_VALUE_CHARS:
        raise ValueLimitError(
            f"an array that prints as more than {MAX_VALUE_CHARS} characters", token=None
        )


def _text(value: Any) -> str:
    # How Liquid's string filters see their arguments.
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _before_replace(value: Any, old: Any = "", new: Any = "", *_: Any) -> None:
    # One step can multiply a string (`replace: "", long`): refuse before computing it.
    old_text, new_text = _text(old), _text(new)
    if len(new_text) <= len(old_text):
        return
    text = _text(value)
    count = text.count(old_text) if old_text else len(text) + 1
    if len(text) + count * (len(new_text) - len(old_text)) > MAX_VALUE_CHARS:
        raise _too_long()


def _before_join(value: Any, separator: Any = " ", *_: Any) -> None:
    # The separator goes between every item of the flattened array: one step could make a
    # page-long separator into thousands of pages. Count as join will, stop once too long.
    check_range(value)
    if not isinstance(value, list | tuple):
        return
    glue = len(_text(separator))
    length = -glue
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(item)
            continue
        length += glue + (
            len(item) if isinstance(item, str) else _printed_size(item, MAX_VALUE_CHARS)
        )
        if length > MAX_VALUE_CHARS:
            raise _too_long()


def _before_date(value: Any, format_: Any = None, *_: Any) -> None:
    # strftime turns each two-character directive into up to a few dozen characters.
    if len(_text(format_)) * 16 > MAX_VALUE_CHARS:
        raise ValueLimitError(
            f"a date format longer than {MAX_VALUE_CHARS // 16} characters", token=None
        )


def _before_markdown(value: Any, *_: Any) -> None:
    if len(_text(value)) > MAX_MARKDOWN_CHARS:
        raise ValueLimitError(f"markdown longer than {MAX_MARKDOWN_CHARS} characters", token=None)


def _before_sequence(value: Any, *_: Any) -> None:
    check_range(value)


_SEQUENCE_FILTERS = (
    "map", "reverse", "sort", "sort_natural", "uniq", "compact", "concat",
    "where", "first", "last", "size", "sum", "reject", "find", "find_index", "has",
)  # fmt: skip

_BEFORE: dict[str, Callable[..., None]] = {
    **{name: _before_sequence for name in _SEQUENCE_FILTERS},
    "date": _before_date,
    "join": _before_join,
    "markdown": _before_markdown,
    "replace": _before_replace,
}
# Filters whose result can print far larger than their arguments' lengths suggest.
_AFTER_PRINTED = frozenset({"concat"})


def limited(name: str, filter_: Callable[..., Any]) -> Callable[..., Any]:
    """``filter_`` with the value caps: its arguments checked where one step could make
    something huge, its result checked always."""
    before = _BEFORE.get(name)
    printed = name in _AFTER_PRINTED

    def wrapper(value: Any, *args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before(value, *args)
        result = filter_(value, *args, **kwargs)
        # Inline rather than a helper: this runs for every filter of every render.
        if isinstance(result, str):
            if len(result) > MAX_VALUE_CHARS:
                raise _too_long()
        elif isinstance(result, int):
            if int_too_long(result):
                raise _too_big_a_number()
        elif isinstance(result, list | tuple):
            if len(result) > MAX_SEQUENCE_LENGTH:
                raise _too_many()
            if printed:
                _check_printed(result)
        return result

    for attr in ("with_context", "with_environment"):
        if getattr(filter_, attr, False):
            setattr(wrapper, attr, True)
    return wrapper


class LimitedContext(RenderContext):
    """The render context: it carries the render's deadline (copies for partial templates
    share it) and checks it at every filter, and it caps assigned strings."""

    __slots__ = ("deadline",)

    def __init__(
        self, template: Any, *, parent_context: RenderContext | None = None, **kwargs: Any
    ) -> None:
        super().__init__(template, parent_context=parent_context, **kwargs)
        self.deadline: float = (
            parent_context.deadline
            if isinstance(parent_context, LimitedContext)
            else time.monotonic() + MAX_RENDER_SECONDS
        )

    def check_deadline(self, token: Token | None) -> None:
        if time.monotonic() > self.deadline:
            raise _too_late(token)

    def filter(self, name: str, token: Token | None) -> Callable[..., object]:
        if time.monotonic() > self.deadline:
            raise _too_late(token)
        return super().filter(name, token)

    def assign(self, key: str, val: Any) -> None:
        if isinstance(val, str) and len(val) > MAX_VALUE_CHARS:
            raise _too_long()
        super().assign(key, val)


@cache
def timed(node_class: type[Node]) -> type[Node]:
    """``node_class`` checking the render's deadline each time a node of it renders, and
    placing errors from inside it at its own line."""
    base_render = node_class.render
    # Node.render only checks disabled tags; doing that here saves a call per node.
    inline = base_render is Node.render

    def render(self: Node, context: Any, buffer: TextIO) -> int:
        if time.monotonic() > context.deadline:
            raise _too_late(self.token)
        try:
            if not inline:
                return base_render(self, context, buffer)
            if context.disabled_tags:
                self.raise_for_disabled(context.disabled_tags)
            return self.render_to_output(context, buffer)
        except LiquidError as exc:
            if exc.token is None:
                exc.token = self.token
            raise
        except (ArithmeticError, ValueError) as exc:
            # Python refusing an operation on this input (an integer too long to print, a
            # number too large for a float) is the template's error, not the server's.
            if "integer string conversion" in str(exc):
                raise _too_big_a_number(self.token) from None
            raise RenderValueError(str(exc), token=self.token) from None

    return type(
        node_class.__name__,
        (node_class,),
        {"__slots__": (), "__module__": __name__, "render": render},
    )
