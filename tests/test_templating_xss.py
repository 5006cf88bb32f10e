"""An XSS corpus in every kind of input position renders inert."""

from __future__ import annotations

import html
import json
import re

import pytest

from handloop.templating import render_template

PAYLOADS = [
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 1">',
    '" onmouseover="window.__xss = 1',
    "' onmouseover='window.__xss = 1",
    "javascript:window.__xss = 1",
    "</script><script>window.__xss = 1</script>",
    "</textarea><script>window.__xss = 1</script>",
    "</title><svg onload=window.__xss=1>",
    "\u2028window.__xss = 1\u2029",
    "{{ 'x' | skip_autoescape }}{% raw %}",
    "<!--",
    "]]><![CDATA[",
]

# Where a template can put an input value; each must hold the payload as inert data.
POSITIONS = {
    "text": "<p>{{ task.input.v }}</p>",
    "double-quoted attribute": '<div title="{{ task.input.v }}"></div>',
    "single-quoted attribute": "<div title='{{ task.input.v }}'></div>",
    "textarea": "<textarea>{{ task.input.v }}</textarea>",
    "title": "<title>{{ task.input.v }}</title>",
    "script via to_json": "<script>var v = {{ task.input.v | to_json }};</script>",
    "attribute via to_json | escape": (
        '<x-el data="{{ task.input.v | to_json | escape }}"></x-el>'
    ),
    "href via grant_read_access": '<a href="{{ task.input.v | grant_read_access }}">x</a>',
    "object in attribute": "<x-el data='{{ task.input }}'></x-el>",
    "HTML comment": "<!-- {{ task.input.v }} -->",
    "style": "<style>/* {{ task.input.v }} */</style>",
    "event handler via to_json | escape": (
        '<button onclick="show({{ task.input.v | to_json | escape }})">x</button>'
    ),
}


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("position", list(POSITIONS))
def test_payload_is_inert(position: str, payload: str) -> None:
    source = POSITIONS[position]
    page = render_template(source, {"v": payload})
    # The only markup left is the template's own: strip it and no tag or quote survives.
    skeleton = re.sub(r"\{\{.*?\}\}", "\0", source)
    before, after = skeleton.split("\0")
    assert page.startswith(before) and page.endswith(after)
    inserted = page[len(before) : len(page) - len(after)]
    if "to_json" in source and "escape" not in source:
        assert json.loads(inserted) == payload
        assert not re.search(r"[<>&'\u2028\u2029]", inserted)
    elif position == "href via grant_read_access" and payload.startswith("javascript:"):
        assert inserted == "about:blank#blocked"
    else:
        assert not re.search(r"[<>\"'\u2028\u2029]", inserted)
        if position == "object in attribute":
            assert json.loads(html.unescape(inserted)) == {"v": payload}
        elif "to_json" in source:
            assert json.loads(html.unescape(inserted)) == payload
        else:
            assert html.unescape(inserted) == payload


def test_skip_autoescape_is_the_only_way_to_raw_html() -> None:
    payload = "<b>bold</b>"
    raw = render_template("{{ task.input.v | skip_autoescape }}", {"v": payload})
    assert raw == payload
    for source in [
        "{{ task.input.v }}",
        "{{ task.input.v | escape }}",
        "{{ task.input.v | escape_once }}",
        "{{ task.input.v | strip | upcase }}",
        "{% capture c %}{{ task.input.v }}{% endcapture %}{{ c }}",
        "{% assign a = task.input.v %}{{ a }}",
        "{{ task.input.v | append: '' | prepend: '' }}",
    ]:
        assert "<" not in render_template(source, {"v": payload}), source
