"""The one JSON and text rule every entry uses (handloop.domain.json_values)."""

from __future__ import annotations

import pytest

from handloop.domain import json_values
from handloop.errors import ValidationError

REFUSED = [
    ("[" * 101 + "]" * 101, "nested more than 100 levels"),
    ("[" * 100_000 + "]" * 100_000, "nested more than 100 levels"),
    ('{"a": "\\ud800"}', "lone surrogate"),
    ('{"\\udfff": 1}', "lone surrogate"),
    ('["\\ud83d"]', "lone surrogate"),
    ("NaN", "NaN is not a JSON number"),
    ("[Infinity]", "Infinity is not a JSON number"),
    ("[-Infinity]", "-Infinity is not a JSON number"),
    ("1e400", "cannot represent"),
    ("1" * 4301, "more than 4300 digits"),
    ("{", "not valid JSON"),
    (b"\xff", "not valid UTF-8"),
]


@pytest.mark.parametrize(("text", "message"), REFUSED, ids=lambda v: repr(v)[:20])
def test_parse_refuses(text: str | bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        json_values.parse(text, "InputContent")
    assert info.value.message.startswith(("InputContent", "A string in", "An object key in"))


ACCEPTED = [
    ("[" * 100 + "]" * 100, None),
    ('"\\ud83d\\ude00"', "\U0001f600"),
    ('"\\u0000"', "\x00"),
    ("1" * 4300, int("1" * 4300)),
    ("1.5e308", 1.5e308),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED, ids=lambda v: repr(v)[:20])
def test_parse_accepts(text: str, expected: object) -> None:
    value = json_values.parse(text, "InputContent")
    if expected is not None:
        assert value == expected


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), [{"a": "\udc00"}], {1: "x"}, {"k": object()}, 10**4300],
    ids=["nan", "inf", "surrogate", "int-key", "object", "huge-int"],
)
def test_check_value_refuses_parsed_values(value: object) -> None:
    with pytest.raises(ValidationError):
        json_values.check_value(value, "An answer")


def test_check_text_refuses_nul_unless_allowed() -> None:
    with pytest.raises(ValidationError, match="NUL"):
        json_values.check_text("a\x00b@example.com", "Email")
    assert json_values.check_text("a\x00b", "Note", allow_nul=True) == "a\x00b"
    with pytest.raises(ValidationError, match="lone surrogate"):
        json_values.check_text("caf\udce9", "Description")


def test_dumps_refuses_what_check_refuses() -> None:
    with pytest.raises(ValueError):
        json_values.dumps(float("nan"))
    assert json_values.dumps({"a": "é"}) == '{"a":"é"}'


@pytest.mark.parametrize(
    ("text", "syntax"),
    [
        ("{", True),
        ("[1,]", True),
        ('{"a": tru}', True),
        ("NaN", False),
        ("1e400", False),
        ("[" * 101 + "]" * 101, False),
        ('"\\ud800"', False),
        (b"\xff", False),
    ],
    ids=lambda v: repr(v)[:12],
)
def test_parse_tells_text_that_is_not_json_from_json_beyond_bounds(
    text: str | bytes, syntax: bool
) -> None:
    with pytest.raises(ValidationError) as info:
        json_values.parse(text, "Body")
    assert isinstance(info.value, json_values.JsonSyntaxError) is syntax


@pytest.mark.parametrize(
    ("value", "too_long"),
    [
        (0, False),
        (10**4300 - 1, False),
        (-(10**4300 - 1), False),
        (10**4300, True),
        (-(10**4300), True),
    ],
    ids=["zero", "4300 digits", "-4300 digits", "4301 digits", "-4301 digits"],
)
def test_int_too_long_is_pythons_printing_limit(value: int, too_long: bool) -> None:
    assert json_values.int_too_long(value) is too_long
    if not too_long:
        assert len(str(abs(value))) <= json_values.MAX_INT_DIGITS
