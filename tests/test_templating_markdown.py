"""The `markdown` filter: readable HTML from Markdown, and nothing from the input that can
run script, load from an unlisted scheme or open a link without noopener."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handloop.templating import TemplateRenderError, render_template
from handloop.templating.limits import MAX_MARKDOWN_CHARS
from handloop.templating.markdown import ATTRIBUTES, TAGS, URL_SCHEMES

SOURCE = "{{ task.input.text | markdown }}"


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text += data


def parse(html: str) -> Elements:
    elements = Elements()
    elements.feed(html)
    elements.close()
    return elements


C0_AND_SPACE = "".join(map(chr, range(0x21)))


def browser_scheme(url: str) -> str | None:
    """The scheme a browser reads in ``url`` (WHATWG: C0 controls and spaces at the ends
    ignored, tabs and newlines removed), or None for a URL without one (a relative URL)."""
    cleaned = re.sub(r"[\t\n\r]", "", url.strip(C0_AND_SPACE))
    match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", cleaned)
    return match.group(1).lower() if match else None


def markdown(text: Any) -> str:
    return render_template(SOURCE, {"text": text})


def assert_safe(html: str) -> None:
    elements = parse(html)
    assert elements.tags[0] == ("div", {"class": "hl-markdown"})
    for tag, attrs in elements.tags[1:]:
        assert tag in TAGS, html
        for name, value in attrs.items():
            assert name in ATTRIBUTES.get(tag, set()) | {"style", "rel"}, (tag, name)
            if name in {"href", "src"}:
                # Absolute, with a listed scheme: relative URLs are dropped too.
                assert browser_scheme(value or "") in URL_SCHEMES, value
            if name == "style":
                assert tag in {"pre", "code"}, html
        if tag == "a":
            assert attrs.get("rel") == "noopener noreferrer", html


def test_markdown_becomes_readable_html() -> None:
    text = (
        "# Title\n\nSome **bold**, *em*, ~~gone~~ and `x = 1`.\n\n"
        "```python\ndef f():\n    return  1\n```\n\n"
        "1. one\n2. two\n\n- a\n- b\n\n> quoted\n\n"
        "| a | b |\n|---|--:|\n| 1 | 2 |\n\n[docs](https://example.com/x?a=1&b=2 'T')"
    )
    html = markdown(text)
    assert_safe(html)
    tags = [tag for tag, _ in parse(html).tags]
    for tag in ["h1", "strong", "em", "s", "code", "pre", "ol", "ul", "blockquote", "table"]:
        assert tag in tags, tag
    # A code block keeps its line breaks and spaces, in a monospace font.
    assert "def f():\n    return  1\n</code></pre>" in html
    pre = dict(next(attrs for tag, attrs in parse(html).tags if tag == "pre"))
    assert "monospace" in (pre["style"] or "") and "white-space: pre" in (pre["style"] or "")
    link = next(attrs for tag, attrs in parse(html).tags if tag == "a")
    assert link == {
        "href": "https://example.com/x?a=1&b=2",
        "title": "T",
        "rel": "noopener noreferrer",
    }


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<iframe src='https://example.com'></iframe>",
        "<svg onload=alert(1)></svg>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](jav&#x09;ascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
        "![x](javascript:alert(1))",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        '[x](https://example.com" onclick="alert(1))',
        "[x](https://example.com 'a\" onmouseover=\"alert(1)')",
        "<style>body{display:none}</style>",
        "<form action='https://evil.example'><button>go</button></form>",
        "<a href='https://example.com' target=_top>x</a>",
    ],
)
def test_nothing_in_the_text_can_run_or_escape(text: str) -> None:
    html = markdown(text)
    assert_safe(html)
    lowered = html.lower()
    assert "<script" not in lowered and "<iframe" not in lowered and "<style" not in lowered
    # Such text may stay, as text; it reaches no attribute.
    for _, attrs in parse(html).tags:
        assert not any(name.startswith("on") for name in attrs), html
        for name in ("href", "src"):
            if name in attrs:
                assert browser_scheme(attrs[name] or "") in URL_SCHEMES, html


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "<",
                ">",
                "[",
                "]",
                "(",
                ")",
                "!",
                "`",
                "```",
                "\n",
                " ",
                "*",
                "_",
                "|",
                "-",
                '"',
                "'",
                "&#",
                "x",
                "javascript:",
                "https://a.example/",
                "<script>",
                "<img src=x onerror=alert(1)>",
                "<a href=",
                "onclick=",
                "data:text/html,",
                "\t",
                "\x00",
                "\u2028",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_any_mix_of_dangerous_pieces_stays_safe(text: str) -> None:
    assert_safe(markdown(text))


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (5, "5"), (True, "true"), ("", ""), (["a"], '["a"]')],
)
def test_other_values_become_text(value: Any, text: str) -> None:
    assert parse(markdown(value)).text.strip() == text


def test_an_undefined_value_is_an_empty_block() -> None:
    assert render_template("{{ task.input.nothing | markdown }}", {}) == (
        '<div class="hl-markdown"></div>'
    )


def test_input_past_the_cap_is_a_resource_limit_error() -> None:
    assert_safe(markdown("a" * MAX_MARKDOWN_CHARS))
    with pytest.raises(TemplateRenderError) as info:
        markdown("a" * (MAX_MARKDOWN_CHARS + 1))
    assert info.value.limit
    assert f"markdown longer than {MAX_MARKDOWN_CHARS} characters" in info.value.message
