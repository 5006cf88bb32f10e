"""The task frame's document: a rendered template, pointed at handloop's own element
library, with the bridge that carries answers to the portal page by postMessage."""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from handloop.domain.quality import order_seed

__all__ = ["element_modules", "frame_document", "order_seed"]

STATIC = Path(__file__).parent / "static"
ELEMENTS = "crowd-html-elements.js"
ELEMENT_MODULES = "elements"
ELEMENT_STYLES = "crowd-html-elements.css"
BRIDGE = "frame-bridge.js"
_CROWD_SCRIPT = re.compile(
    r"https?://assets\.crowd\.aws/crowd-html-elements(?:-v2)?(?:\.min)?\.js", re.IGNORECASE
)
_CROWD_STYLESHEET = re.compile(r"https?://assets\.crowd\.aws/[^'\" >]*\.css", re.IGNORECASE)
_TAG_START = re.compile(r"<(script|link)\b", re.IGNORECASE)
_SRC = re.compile(r"\bsrc\s*=\s*['\"]?", re.IGNORECASE)
_HREF = re.compile(r"\bhref\s*=\s*['\"]?", re.IGNORECASE)
_SCRIPT_END = re.compile(r"\s*</script\s*>", re.IGNORECASE)


@functools.cache
def element_modules() -> tuple[str, ...]:
    """The element library's modules besides its entry, as paths under the static folder."""
    folder = STATIC / ELEMENT_MODULES
    return tuple(sorted(f"{ELEMENT_MODULES}/{path.name}" for path in folder.glob("*.js")))


def _points_at(tag: str, attribute: re.Pattern[str], url: re.Pattern[str]) -> bool:
    found = attribute.search(tag)
    return found is not None and url.match(tag, found.end()) is not None


def _replace_crowd_tags(html: str, stylesheet: str) -> str:
    """Drop the template's own tags for AWS's element script (the library is loaded once, as
    a module, from the head) and give its links to AWS's stylesheets handloop's styles.

    One pass, each tag read once up to its ``>``: the time is linear in the page's length
    whatever the template holds (regular expressions spanning a tag's attributes take
    quadratic time on a page of unclosed ``<link`` or ``<script`` tags).
    """
    out: list[str] = []
    done = 0
    position = 0
    while (start := _TAG_START.search(html, position)) is not None:
        end = html.find(">", start.end())
        if end < 0:
            break  # no tag after this one can close either
        tag = html[start.start() : end + 1]
        position = end + 1
        if start.group(1).lower() == "script":
            if not _points_at(tag, _SRC, _CROWD_SCRIPT):
                continue
            closing = _SCRIPT_END.match(html, position)
            if closing is None:
                continue
            out += [html[done : start.start()]]
            position = done = closing.end()
        elif _points_at(tag, _HREF, _CROWD_STYLESHEET):
            out += [html[done : start.start()], stylesheet]
            done = position
    out.append(html[done:])
    return "".join(out)


def frame_document(rendered: str, *, static_base: str, seed: str | None = None) -> str:
    """A whole HTML document for the sandboxed task frame.

    The element library is a module script: it runs once the template is parsed, as a
    deferred script does, so an inline script that runs during parsing meets elements not
    yet defined. Properties it sets are taken over when they are; their methods are there
    from ``all-crowd-elements-ready`` (or ``customElements.whenDefined``) on. The modules
    the entry imports are preloaded, so they arrive together, not one level at a time.

    ``seed`` (see ``order_seed``) goes into ``<meta name="hl-order-seed">`` for the
    preference elements; the rendered page must already have passed ``prerender_markdown``.
    """
    base = static_base.rstrip("/")
    elements = f"{base}/{ELEMENTS}"
    styles = f'<link rel="stylesheet" href="{base}/{ELEMENT_STYLES}">'
    body = _CROWD_SCRIPT.sub(elements, _replace_crowd_tags(rendered, styles))
    head = ['<meta charset="utf-8">', '<meta name="viewport" content="width=device-width">']
    if seed is not None:
        head.append(f'<meta name="hl-order-seed" content="{html.escape(seed)}">')
    head += [f'<link rel="modulepreload" href="{base}/{path}">' for path in element_modules()]
    head.append(f'<script type="module" src="{elements}"></script>')
    head.append(f'<script src="{base}/{BRIDGE}"></script>')
    return (
        "<!doctype html>\n<html><head>"
        + "".join(head)
        + "</head><body>\n"
        + body
        + "\n</body></html>\n"
    )
