"""Markdown for the preference elements, rendered on the server.

The `hl-` preference elements take their responses (and `hl-conversation` its messages) as
JSON in an attribute. Their text is Markdown; it is rendered here by the same parser and
sanitizer as the `markdown` filter, and placed in a ``<template data-hl-markdown>`` right
inside the element, one ``<div data-hl-item="i">`` per list item, which the element shows
instead of the plain text. The browser then needs no Markdown library of its own, and
nothing from the input reaches the page without passing the sanitizer.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from handloop.templating.limits import MAX_MARKDOWN_CHARS
from handloop.templating.markdown import render_markdown

# element -> the attribute holding its list
LIST_ATTRIBUTES = {
    "hl-comparison-choice": "responses",
    "hl-comparison-rank": "responses",
    "hl-comparison-likert": "responses",
    "hl-likert": "responses",
    "hl-thumbs": "responses",
    "hl-response-edit": "responses",
    "hl-conversation": "messages",
}
_NEWLINE = re.compile("\n")
MAX_ITEMS = 50  # per element; more are shown as plain text
# Markdown rendered per page, in characters: beyond it, items are shown as plain text (a
# page of hostile text must not take seconds to serve).
MAX_PAGE_CHARS = 4 * MAX_MARKDOWN_CHARS


def item_text(item: Any) -> str | None:
    """The text an element shows for one list item (as elements/preference.js reads it)."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("text", "content", "response"):
            value = item.get(key)
            if isinstance(value, str):
                return value
    return None


class _Finder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[tuple[int, int], int, list[Any]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = LIST_ATTRIBUTES.get(tag)
        if name is None:
            return
        values = dict(attrs)
        if (values.get("markdown") or "").strip().lower() in ("false", "0"):
            return
        raw = values.get(name)
        if not raw:
            return
        try:
            items = json.loads(raw)
        except ValueError:
            return  # a JavaScript literal or a broken value: the element shows plain text
        text = self.get_starttag_text() or ""
        if isinstance(items, list) and text:
            self.found.append((self.getpos(), len(text), items[:MAX_ITEMS]))


def _fragment(items: list[Any], budget: list[int]) -> str:
    parts = ["<template data-hl-markdown>"]
    for index, item in enumerate(items):
        text = item_text(item)
        if text is None or len(text) > min(MAX_MARKDOWN_CHARS, budget[0]):
            continue
        budget[0] -= len(text)
        parts.append(f'<div data-hl-item="{index}">{render_markdown(text)}</div>')
    parts.append("</template>")
    return "".join(parts)


def prerender_markdown(html: str) -> str:
    """``html`` with rendered Markdown inside each preference element that lists items."""
    if "<hl-" not in html:
        return html
    finder = _Finder()
    finder.feed(html)
    finder.close()
    if not finder.found:
        return html
    line_starts = [0] + [match.end() for match in _NEWLINE.finditer(html)]
    budget = [MAX_PAGE_CHARS]
    out: list[str] = []
    done = 0
    for (line, column), length, items in finder.found:
        end = line_starts[line - 1] + column + length
        out += [html[done:end], _fragment(items, budget)]
        done = end
    out.append(html[done:])
    return "".join(out)
