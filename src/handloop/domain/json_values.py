"""The one rule for what JSON and text handloop accepts from outside.

Every entry (the AWS APIs, the portal, the command line, files an export reads) parses and
checks through here, so a value that passed one door cannot break another part later:

- nesting is bounded (``MAX_DEPTH``), so no parser, renderer or serializer recurses too deep;
- strings are valid Unicode: a lone surrogate (``"\\ud800"``, legal in JSON text, illegal in
  UTF-8) can never be encoded again, in a response, an output file or a database;
- numbers are finite (no ``NaN``, ``Infinity`` or ``1e400``, which JSON does not have) and
  integers have at most ``MAX_INT_DIGITS`` digits (Python's own limit for turning them to
  text);
- plain text fields (names, emails, descriptions) also refuse NUL, which PostgreSQL's text
  columns cannot hold.

Checks walk values with an explicit stack: a hostile document cannot make them recurse.
"""

from __future__ import annotations

import json
import math
from typing import Any

from handloop.errors import ValidationError

# Far deeper than any task input, answer or request needs, far shallower than the depth at
# which Python's parser, Liquid or a serializer would recurse out of stack.
MAX_DEPTH = 100
# Documents that embed checked values a few levels down (an output file holds the input
# and the answers) are read back with this much room.
EMBEDDING_DEPTH = MAX_DEPTH + 8
# sys.get_int_max_str_digits()'s default: longer integers cannot be printed or parsed.
MAX_INT_DIGITS = 4300
_INT_LIMIT: int = 10**MAX_INT_DIGITS
_INT_LIMIT_BITS = _INT_LIMIT.bit_length() - 1


class JsonSyntaxError(ValidationError):
    """Text that is not JSON at all, as opposed to JSON beyond handloop's bounds (an API
    answers the first with ``SerializationException``, the second ``ValidationException``)."""


class _NotANumber(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotANumber(f"{name} is not a JSON number")


def _show(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def int_too_long(value: int) -> bool:
    """Whether ``value`` has more than ``MAX_INT_DIGITS`` digits (Python cannot print it)."""
    return value.bit_length() >= _INT_LIMIT_BITS and abs(value) >= _INT_LIMIT


def check_text(value: str, what: str, *, allow_nul: bool = False) -> str:
    """``value`` if it is valid Unicode (and, unless ``allow_nul``, holds no NUL); else
    ValidationException naming ``what``."""
    if value.isascii():
        if not allow_nul and "\x00" in value:
            raise ValidationError(f"{what} contains a NUL character, which is not allowed.")
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"{what} is not valid Unicode: it contains a lone surrogate "
            f"(\\u{ord(value[exc.start]):04x}) at character {exc.start}."
        ) from None
    if not allow_nul and "\x00" in value:
        raise ValidationError(f"{what} contains a NUL character, which is not allowed.")
    return value


def check_value(
    value: Any, what: str, *, max_depth: int = MAX_DEPTH, allow_nul: bool = True
) -> Any:
    """``value`` if it is JSON data within handloop's bounds (see the module docstring);
    else ValidationException naming ``what``. Tuples count as arrays."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_text(item, f"A string in {what}", allow_nul=allow_nul)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if int_too_long(item):
                raise ValidationError(
                    f"{what} holds an integer with more than {MAX_INT_DIGITS} digits."
                )
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValidationError(
                    f"{what} holds a number JSON cannot represent (NaN, Infinity or one "
                    "too large for a double)."
                )
        elif isinstance(item, dict | list | tuple):
            if depth + 1 > max_depth:
                raise ValidationError(f"{what} is nested more than {max_depth} levels deep.")
            if isinstance(item, dict):
                for key, member in item.items():
                    if not isinstance(key, str):
                        raise ValidationError(f"{what} has an object key that is not a string.")
                    check_text(key, f"An object key in {what}", allow_nul=allow_nul)
                    stack.append((member, depth + 1))
            else:
                stack.extend((member, depth + 1) for member in item)
        else:
            raise ValidationError(f"{what} holds a {type(item).__name__}, which is not JSON.")
    return value


def parse(
    text: str | bytes, what: str, *, max_depth: int = MAX_DEPTH, allow_nul: bool = True
) -> Any:
    """``text`` parsed as JSON and checked by :func:`check_value`; ValidationException
    naming ``what`` if it is not within bounds, JsonSyntaxError (a ValidationException
    too) if it is not JSON at all."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValidationError(f"{what} is nested more than {max_depth} levels deep.") from None
    except UnicodeDecodeError:
        raise ValidationError(f"{what} is not valid UTF-8.") from None
    except _NotANumber as exc:
        raise ValidationError(f"{what} holds a number JSON cannot represent: {exc}.") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise ValidationError(
                f"{what} holds an integer with more than {MAX_INT_DIGITS} digits."
            ) from None
        raise JsonSyntaxError(f"{what} is not valid JSON: {_show(str(exc), 120)}") from None
    return check_value(value, what, max_depth=max_depth, allow_nul=allow_nul)


def dumps(value: Any) -> str:
    """Compact JSON text of a checked value, non-ASCII kept as is (it encodes: the value
    was checked)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
