"""Keyset pagination tokens: a page ends at a (sort key, id) position, so rows added while
a caller pages never shift the pages still to come.

A token comes back from the caller, so it is read as hostile: anything but a token handloop
gave for the same query is ValidationException, never a failure deeper down.
"""

from __future__ import annotations

import base64
from typing import Any

from handloop.domain import json_values
from handloop.errors import ValidationError

# Positions hold creation times (microseconds), row ids and offsets: all fit a signed
# 64-bit column, as the database needs them to.
_POSITION_LIMIT = 2**63


def encode_token(position: list[Any], query: dict[str, Any]) -> str:
    raw = json_values.dumps({"p": position, "q": query})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, query: dict[str, Any], *, length: int) -> list[int]:
    """The position (``length`` integers) a token stands for; ValidationException when it
    is not a token handloop made, or was made for another query."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json_values.parse(raw, "The NextToken", max_depth=3)
    except (ValueError, ValidationError):  # binascii.Error is a ValueError
        raise ValidationError("The NextToken is not valid.") from None
    position = data.get("p") if isinstance(data, dict) else None
    if not (
        isinstance(position, list)
        and len(position) == length
        and all(
            isinstance(n, int) and not isinstance(n, bool) and 0 <= n < _POSITION_LIMIT
            for n in position
        )
    ):
        raise ValidationError("The NextToken is not valid.")
    if data.get("q") != _as_json(query):
        raise ValidationError("The NextToken was issued for a different request.")
    return position


def _as_json(query: dict[str, Any]) -> Any:
    """``query`` as it reads back from a token (tuples become lists, and so on)."""
    return json_values.parse(json_values.dumps(query), "query")
