"""Server-side Markdown for the preference elements, the order seed in the frame, and JSON
in double-quoted attributes."""

from __future__ import annotations

import html
import json
import re

from handloop.templating import render_template
from handloop.templating.limits import MAX_MARKDOWN_CHARS
from handloop.templating.prerender import MAX_PAGE_CHARS, prerender_markdown
from handloop.templating.render import quote_json_attributes
from handloop.web.frame import frame_document, order_seed

TAG = (
    "<hl-comparison-choice name='p' responses='{{ task.input.r | to_json }}'>"
    "</hl-comparison-choice>"
)


def fragments(page: str) -> dict[str, str]:
    """Item index -> the rendered HTML the server put inside the element."""
    found = re.findall(r'<div data-hl-item="(\d+)">(.*?)</div></div>', page, re.S)
    return {index: body + "</div>" for index, body in found}


def test_json_fills_a_double_quoted_attribute_intact() -> None:
    data = {"r": ['say "hi" & <b>', {"id": "x", "text": "it's"}]}
    page = render_template('<x data-r="{{ task.input.r | to_json }}"></x>', data)
    value = re.search(r'data-r="([^"]*)"', page)
    assert value is not None
    assert json.loads(html.unescape(value.group(1))) == data["r"]
    # Already escaped, single-quoted or in a script: unchanged.
    assert quote_json_attributes("a='{{ x | to_json }}'") == "a='{{ x | to_json }}'"
    assert (
        quote_json_attributes('a="{{ x | to_json | escape }}"') == 'a="{{ x | to_json | escape }}"'
    )
    assert quote_json_attributes("<script>var a = {{ x | to_json }};</script>").count("escape") == 0
    assert quote_json_attributes('a="{{- x | to_json -}}"') == 'a="{{- x | to_json | escape -}}"'


def test_each_response_is_rendered_once_inside_its_element() -> None:
    page = prerender_markdown(
        render_template(TAG, {"r": ["**one**", {"id": "b", "content": "`two`"}, 3]})
    )
    found = fragments(page)
    assert set(found) == {"0", "1"}  # a number has no text to render
    assert "<strong>one</strong>" in found["0"] and "<code" in found["1"]
    assert page.index("<template data-hl-markdown>") > page.index("<hl-comparison-choice")
    assert page.index("</template>") < page.index("</hl-comparison-choice>")


def test_hostile_text_is_sanitized() -> None:
    hostile = [
        "<script>alert(1)</script>",
        "[x](javascript:alert(1))",
        '<img src=x onerror="alert(1)">',
    ]
    page = prerender_markdown(render_template(TAG, {"r": hostile}))
    inside = page[page.index("<template") :]
    assert "<script" not in inside and "javascript:" not in inside.replace("](javascript:", "")
    assert "<img" not in inside and "&lt;script&gt;" in inside


def test_what_it_leaves_alone() -> None:
    for source in (
        "<p>no elements here</p>",
        TAG.replace("<hl-comparison-choice ", "<hl-comparison-choice markdown='false' "),
        "<hl-thumbs responses='not json'></hl-thumbs>",
        "<hl-thumbs></hl-thumbs>",
        "<crowd-classifier categories='[\"a\"]'></crowd-classifier>",
    ):
        rendered = render_template(source, {"r": ["**x**"]})
        assert prerender_markdown(rendered) == rendered


def test_positions_survive_lines_and_several_elements() -> None:
    source = (
        "<p>\n\n</p>\n"
        + TAG.replace("name='p'", "name='p'\n  ")
        + "\n<hl-conversation messages='{{ task.input.m | to_json }}'></hl-conversation>"
    )
    page = prerender_markdown(
        render_template(source, {"r": ["a", "b"], "m": [{"role": "user", "content": "# hi"}]})
    )
    assert page.count("<template data-hl-markdown>") == 2
    assert re.search(
        r"<hl-conversation [^>]*><template data-hl-markdown><div data-hl-item=\"0\">"
        r"<div class=\"hl-markdown\"><h1>hi</h1>",
        page,
    )


def test_long_text_is_left_as_plain_text() -> None:
    long = "x" * (MAX_MARKDOWN_CHARS + 1)
    page = prerender_markdown(render_template(TAG, {"r": [long, "*short*"]}))
    assert set(fragments(page)) == {"1"}
    many = ["y" * MAX_MARKDOWN_CHARS] * 6  # over the page's budget after four
    page = prerender_markdown(render_template(TAG, {"r": many}))
    assert len(fragments(page)) == MAX_PAGE_CHARS // MAX_MARKDOWN_CHARS


def test_frame_carries_a_seed_per_task() -> None:
    a, b = order_seed("task-a"), order_seed("task-b")
    assert a != b and a == order_seed("task-a") and re.fullmatch("[0-9a-f]{16}", a)
    document = frame_document("<p>x</p>", static_base="https://h/static", seed=a)
    assert f'<meta name="hl-order-seed" content="{a}">' in document
    assert "hl-order-seed" not in frame_document("<p>x</p>", static_base="https://h/static")
