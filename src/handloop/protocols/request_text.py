"""Text taken from a request's URI or form body: percent-decoded as UTF-8, strictly.

``urllib.parse`` replaces bytes that are not UTF-8 with U+FFFD without a word, so two
different requests would read as one; here they are an error the caller can read. A NUL is
refused as everywhere else (``handloop.domain.json_values.check_text``).
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from handloop.domain import json_values
from handloop.errors import ValidationError


class UndecodableText(ValidationError):
    """Percent-encoded text that is not valid UTF-8 or holds a NUL. Each protocol names it
    its own way; S3 tells a bad path (``InvalidURI``) from a bad parameter."""

    def __init__(self, message: str, *, s3_code: str = "InvalidArgument") -> None:
        super().__init__(message)
        self.s3_code = s3_code

    def code_for(self, service: str) -> tuple[str, int]:
        if service == "s3":
            return self.s3_code, 400
        if service == "sts":
            return "InvalidParameterValue", 400
        return super().code_for(service)


def decode(
    raw: str, what: str, *, plus_is_space: bool = False, s3_code: str = "InvalidArgument"
) -> str:
    """``raw`` (the request's bytes, read as latin-1) percent-decoded as UTF-8."""
    data = raw.encode("latin-1", "replace")
    if plus_is_space:
        data = data.replace(b"+", b" ")
    try:
        text = unquote_to_bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UndecodableText(
            f"{what} is not valid UTF-8 once percent-decoded (byte {exc.start}).",
            s3_code=s3_code,
        ) from None
    try:
        return json_values.check_text(text, what)
    except ValidationError as exc:
        raise UndecodableText(exc.message, s3_code=s3_code) from None


def parse_form(raw: str, what: str) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` query string or body: each name and value
    decoded by :func:`decode` (``+`` is a space); for a repeated name the last value wins."""
    form: dict[str, str] = {}
    for pair in raw.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        key = decode(name, f"A parameter name in {what}", plus_is_space=True)
        form[key] = decode(value, f"Parameter '{key}' in {what}", plus_is_space=True)
    return form
