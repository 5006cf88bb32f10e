"""The task frame's document: a rendered template, pointed at handloop's own element
library, with the bridge that carries answers to the portal page by postMessage."""

from __future__ import annotations

import functools
import re
from pathlib import Path

STATIC = Path(__file__).parent / "static"
ELEMENTS = "crowd-html-elements.js"
ELEMENT_MODULES = "elements"
ELEMENT_STYLES = "crowd-html-elements.css"
BRIDGE = "frame-bridge.js"
_CROWD_URL = r"https?://assets\.crowd\.aws/crowd-html-elements(?:-v2)?(?:\.min)?\.js"
_CROWD_SCRIPT = re.compile(_CROWD_URL, re.IGNORECASE)
# A template's own <script src="…crowd-html-elements.js"> tag: the library is a set of ES
# modules, loaded once from the head instead.
_CROWD_SCRIPT_TAG = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*['\"]?" + _CROWD_URL + r"['\"]?[^>]*>\s*</script\s*>",
    re.IGNORECASE,
)
# AWS's stylesheet links: they get handloop's page-level styles (elements style themselves).
_CROWD_CSS_LINK = re.compile(
    r"<link\b[^>]*href\s*=\s*['\"]?https?://assets\.crowd\.aws/[^'\" >]*\.css[^>]*>",
    re.IGNORECASE,
)


@functools.cache
def element_modules() -> tuple[str, ...]:
    """The element library's modules besides its entry, as paths under the static folder."""
    folder = STATIC / ELEMENT_MODULES
    return tuple(sorted(f"{ELEMENT_MODULES}/{path.name}" for path in folder.glob("*.js")))


def frame_document(rendered: str, *, static_base: str) -> str:
    """A whole HTML document for the sandboxed task frame.

    The element library is a module script: it runs once the template is parsed, as a
    deferred script does, so an inline script that runs during parsing meets elements not
    yet defined. Properties it sets are taken over when they are; their methods are there
    from ``all-crowd-elements-ready`` (or ``customElements.whenDefined``) on. The modules
    the entry imports are preloaded, so they arrive together, not one level at a time.
    """
    base = static_base.rstrip("/")
    elements = f"{base}/{ELEMENTS}"
    styles = f'<link rel="stylesheet" href="{base}/{ELEMENT_STYLES}">'
    body = _CROWD_SCRIPT_TAG.sub("", rendered)
    body = _CROWD_CSS_LINK.sub(styles, _CROWD_SCRIPT.sub(elements, body))
    head = ['<meta charset="utf-8">', '<meta name="viewport" content="width=device-width">']
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
