"""Ground Truth's Liquid rules, one table row per behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from handloop.errors import ValidationError
from handloop.templating import TemplateRenderError, check_syntax, object_path, render_template


def _grant(uri: str) -> str:
    return "https://handloop.test/objects/" + uri[len("s3://") :] + "?expires=1&signature=ab"


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    task_input: Any
    want: str


CASES = [
    Case("text is escaped", "{{ task.input.x }}", {"x": "<b>&"}, "&lt;b&gt;&amp;"),
    Case("quotes are escaped", "{{ task.input.x }}", {"x": "a'b\"c"}, "a&#39;b&#34;c"),
    Case("numbers print plainly", "{{ task.input.n }}", {"n": 3.5}, "3.5"),
    Case("booleans print lowercase", "{{ task.input.b }}", {"b": True}, "true"),
    Case("null prints empty", "[{{ task.input.z }}]", {"z": None}, "[]"),
    Case("object prints as JSON", "{{ task.input.o }}", {"o": {"a": 1}}, "{&#34;a&#34;: 1}"),
    Case("array prints as JSON", "{{ task.input.a }}", {"a": ["x", 2]}, "[&#34;x&#34;, 2]"),
    Case("undefined prints empty", "[{{ task.input.nope.deeper }}]", {}, "[]"),
    Case("undefined root prints empty", "[{{ nothing }}]", {}, "[]"),
    Case("escape escapes once", "{{ task.input.x | escape }}", {"x": "<i>"}, "&lt;i&gt;"),
    Case(
        "escape_once keeps entities",
        "{{ task.input.x | escape_once }}",
        {"x": "&amp;<"},
        "&amp;&lt;",
    ),
    Case("skip_autoescape is raw", "{{ task.input.x | skip_autoescape }}", {"x": "<i>"}, "<i>"),
    Case("skip_autoescape of an object", "{{ task.input.o | skip_autoescape }}", {"o": [1]}, "[1]"),
    Case("to_json is raw JSON", "{{ task.input.o | to_json }}", {"o": {"a": "b"}}, '{"a": "b"}'),
    Case(
        "to_json escapes script breakers",
        "{{ task.input.x | to_json }}",
        {"x": "</script>&'\u2028\u2029"},
        '"\\u003c/script\\u003e\\u0026\\u0027\\u2028\\u2029"',
    ),
    Case(
        "to_json then escape fits an attribute",
        "{{ task.input.a | to_json | escape }}",
        {"a": ["x"]},
        "[&#34;x&#34;]",
    ),
    Case("to_json of undefined", "{{ task.input.nope | to_json }}", {}, "null"),
    Case(
        "grant_read_access signs s3 URIs",
        "{{ task.input.u | grant_read_access }}",
        {"u": "s3://b/k.jpg"},
        "https://handloop.test/objects/b/k.jpg?expires=1&amp;signature=ab",
    ),
    Case(
        "grant_read_access passes https through",
        "{{ task.input.u | grant_read_access }}",
        {"u": "https://example.com/a.png"},
        "https://example.com/a.png",
    ),
    Case(
        "grant_read_access blocks script URLs",
        "{{ task.input.u | grant_read_access }}",
        {"u": " JavaScript:alert(1)"},
        "about:blank#blocked",
    ),
    Case("grant_read_access of undefined", "[{{ task.input.u | grant_read_access }}]", {}, "[]"),
    Case(
        "input is never rendered again",
        "{{ task.input.x }}",
        {"x": "{{ 1 | plus: 1 }}"},
        "{{ 1 | plus: 1 }}",
    ),
    Case(
        "for and forloop.index",
        "{% for p in task.input.ps %}{{ forloop.index }}={{ p.t }};{% endfor %}",
        {"ps": [{"t": "a"}, {"t": "b"}]},
        "1=a;2=b;",
    ),
    Case(
        "capture then grant",
        "{% capture u %}s3://{{ task.input.b }}/{{ task.input.k }}{% endcapture %}"
        "{{ u | grant_read_access }}",
        {"b": "bucket", "k": "key"},
        "https://handloop.test/objects/bucket/key?expires=1&amp;signature=ab",
    ),
    Case("standard filters still work", "{{ task.input.x | upcase | size }}", {"x": "ab"}, "2"),
    Case("top-level array input", "{{ task.input[1] }}", ["a", "b"], "b"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_render(case: Case) -> None:
    assert render_template(case.source, case.task_input, grant_read_access=_grant) == case.want


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("s3://b/k.jpg", "/objects/b/k.jpg"),
        ("s3://b/dir/a b?.png", "/objects/b/dir/a%20b%3F.png"),
    ],
)
def test_object_path(uri: str, path: str) -> None:
    assert object_path(uri) == path


@pytest.mark.parametrize("uri", ["https://b/k", "s3://bucket", "s3:///key"])
def test_object_path_refuses_non_objects(uri: str) -> None:
    with pytest.raises(ValidationError):
        object_path(uri)


def test_grant_without_function_leaves_uri() -> None:
    assert render_template("{{ task.input | grant_read_access }}", "s3://b/k") == "s3://b/k"


@dataclass(frozen=True)
class Failure:
    name: str
    source: str
    line: int
    fragment: str
    limit: bool = False


FAILURES = [
    Failure("unknown filter", "a\n\n{{ x | nosuch }}", 3, "unknown filter"),
    Failure("unclosed tag", "a\n{% if x %}\nb", 2, "expected tag endif"),
    Failure("bad expression", "a\nb\n{% if %}", 3, "expression"),
    Failure("huge loop", "\n{% for i in (1..100000000) %}x{% endfor %}", 2, "loop", True),
    Failure(
        "nested loops",
        "{% for i in (1..1000) %}{% for j in (1..1000) %}{% endfor %}{% endfor %}",
        1,
        "loop",
        True,
    ),
    Failure("huge range in a filter", "{{ (1..100000000) | join: ',' }}", 1, "range", True),
    Failure(
        "growing string",
        "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..60) %}{% assign s = s | append: s %}"
        "{% endfor %}",
        1,
        "a string longer than 8000000 characters",
        True,
    ),
    Failure(
        "growing capture",
        "{% assign s = 'xxxxxxxxxx' %}{% for i in (1..60) %}{% capture s %}{{ s }}{{ s }}"
        "{% endcapture %}{% endfor %}",
        1,
        "output stream limit",
        True,
    ),
    Failure("deep nesting", "{% if true %}" * 500 + "{% endif %}" * 500, 1, "nesting", True),
    Failure(
        "huge output",
        # A string of a million characters, written nine times: past the cap in a few steps.
        "{% assign s = task.input %}"
        + "{% assign s = s | append: s %}" * 10
        + "{% for i in (1..99999) %}{{ s }}{% endfor %}",
        1,
        "the page is longer than 8000000 characters",
        True,
    ),
]


@pytest.mark.parametrize("case", FAILURES, ids=[c.name for c in FAILURES])
def test_render_errors(case: Failure) -> None:
    with pytest.raises(TemplateRenderError) as info:
        render_template(case.source, "z" * 1000)
    err = info.value
    assert isinstance(err, ValidationError)
    assert err.line == case.line
    assert case.fragment in err.message
    assert err.limit is case.limit
    assert str(err).startswith(f"line {case.line}: ")


@pytest.mark.parametrize(
    ("source", "want"),
    [
        ("{{ task.input.x | to_json | escape }}", []),
        ("{% capture a %}x{% endcapture %}{{ a | grant_read_access | skip_autoescape }}", []),
        ("line\n  {{ x | frobnicate }}", [(2, 10, "unknown filter 'frobnicate'")]),
        ("{% if x %}\n{% endfor %}", None),
    ],
)
def test_check_syntax(source: str, want: list[tuple[int, int, str]] | None) -> None:
    problems = check_syntax(source)
    if want is None:
        assert problems and problems[0].line in (1, 2)
    else:
        assert [(p.line, p.column, p.message) for p in problems] == want
