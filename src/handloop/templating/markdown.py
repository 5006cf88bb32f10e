"""The `markdown` Liquid filter: Markdown (CommonMark, with GitHub's tables and
strikethrough) to HTML that is safe in a task page.

Two well-kept libraries, one after the other: markdown-it-py parses with raw HTML turned
off (a ``<script>`` in the text stays text), and nh3 (the ammonia sanitizer) keeps only the
tags, attributes and URL schemes listed here, and gives every link
``rel="noopener noreferrer"``. Code keeps its formatting in a monospace font, set on the
elements themselves so that it holds whatever stylesheets the template links; a wide code
block scrolls sideways. The result sits in ``<div class="hl-markdown">``. The input's length
is capped before parsing (``limits.MAX_MARKDOWN_CHARS``).
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li",
    "strong", "em", "s", "code", "pre", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
MONOSPACE = "font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"
STYLES = {
    "pre": {"style": f"{MONOSPACE}; white-space: pre; overflow-x: auto"},
    "code": {"style": MONOSPACE},
}


def render_markdown(text: str) -> str:
    """``text`` as sanitized HTML in a ``div.hl-markdown``."""
    html = _PARSER.render(text)
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values=STYLES,
        # A relative URL would resolve against handloop's own origin: dropped.
        url_relative="deny",
    )
    return f'<div class="hl-markdown">{clean}</div>'
