"""Keyset pagination tokens: a page ends at a (sort key, id) position, so rows added while
a caller pages never shift the pages still to come."""

from __future__ import annotations

import base64
import json
from typing import Any

from handloop.errors import ValidationError


def encode_token(position: list[Any], query: dict[str, Any]) -> str:
    raw = json.dumps({"p": position, "q": query}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, query: dict[str, Any]) -> list[Any]:
    """The position a token stands for; ValidationException when it was not made for ``query``."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        position = data["p"]
        made_for = data["q"]
    except (ValueError, KeyError, TypeError):
        raise ValidationError("The NextToken is not valid.") from None
    if made_for != json.loads(json.dumps(query, sort_keys=True)) or not isinstance(position, list):
        raise ValidationError("The NextToken was issued for a different request.")
    return position
