"""The task frame's document: a rendered template, pointed at handloop's own element
library, with the bridge that carries answers to the portal page by postMessage."""

from __future__ import annotations

import re

ELEMENTS = "crowd-html-elements.js"
ELEMENT_STYLES = "crowd-html-elements.css"
BRIDGE = "frame-bridge.js"
_CROWD_SCRIPT = re.compile(
    r"https?://assets\.crowd\.aws/crowd-html-elements(?:-v2)?(?:\.min)?\.js", re.IGNORECASE
)
# AWS's stylesheet links: they get handloop's page-level styles (elements style themselves).
_CROWD_CSS_LINK = re.compile(
    r"<link\b[^>]*href\s*=\s*['\"]?https?://assets\.crowd\.aws/[^'\" >]*\.css[^>]*>",
    re.IGNORECASE,
)


def frame_document(rendered: str, *, static_base: str) -> str:
    """A whole HTML document for the sandboxed task frame."""
    base = static_base.rstrip("/")
    elements = f"{base}/{ELEMENTS}"
    styles = f'<link rel="stylesheet" href="{base}/{ELEMENT_STYLES}">'
    body = _CROWD_CSS_LINK.sub(styles, _CROWD_SCRIPT.sub(elements, rendered))
    head = ['<meta charset="utf-8">', '<meta name="viewport" content="width=device-width">']
    if elements not in body:
        head.append(f'<script src="{elements}"></script>')
    head.append(f'<script src="{base}/{BRIDGE}"></script>')
    return (
        "<!doctype html>\n<html><head>"
        + "".join(head)
        + "</head><body>\n"
        + body
        + "\n</body></html>\n"
    )
