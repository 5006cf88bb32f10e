"""What ``grant_read_access`` lets into a worker's page: which links keep their scheme, and
where a granted ``s3://`` object is served, so every caller signs the same path."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from handloop.errors import ValidationError

# What a link that is not allowed becomes: it loads nothing and runs nothing.
BLOCKED_LINK = "about:blank#blocked"
# Web links, and s3:// (signed by the filter). A link without a scheme is relative: allowed.
_ALLOWED_SCHEMES = frozenset({"http", "https", "s3"})
# data: URLs only for raster images: an SVG or (X)HTML document can run script.
_DATA_IMAGE_TYPES = frozenset(
    {"image/avif", "image/bmp", "image/gif", "image/jpeg", "image/png", "image/webp"}
)
# The WHATWG URL parser strips C0 controls and spaces from both ends and drops every tab
# and newline, then reads a scheme as a letter followed by letters, digits, '+', '-', '.'.
_C0_CONTROL_OR_SPACE = "".join(chr(code) for code in range(0x21))
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*(?=:)")
_ASCII_WHITESPACE = " \t\n\f\r"


def _allowed(url: str) -> str | None:
    link = _TAB_OR_NEWLINE.sub("", url.strip(_C0_CONTROL_OR_SPACE))
    match = _SCHEME.match(link)
    if match is None:
        return link
    scheme = match.group(0).lower()
    link = scheme + link[match.end() :]
    if scheme in _ALLOWED_SCHEMES:
        return link
    if scheme == "data":
        media_type, comma, _ = link[len("data:") :].partition(",")
        essence = media_type.partition(";")[0].strip(_ASCII_WHITESPACE).lower()
        if comma and essence in _DATA_IMAGE_TYPES:
            return link
    return None


def allowed_link(url: str) -> str | None:
    """``url`` as a browser reads it (surrounding controls and spaces, tabs and newlines
    gone, the scheme in lower case) if a worker's page may link to it: http, https, s3,
    relative, or a data: URL of a raster image; else None (``javascript:`` in any disguise,
    ``data:image/svg+xml``, any other scheme).

    Text that is written into a page unescaped has its character references decoded by
    the browser first, so ``url`` must pass both as it is and decoded."""
    link = _allowed(url)
    if link is None or ("&" in url and _allowed(html.unescape(url)) is None):
        return None
    return link


def object_path(uri: str) -> str:
    """The handloop path of ``s3://bucket/key``: ``/objects/bucket/key`` (URL-quoted),
    to be signed (``services.urls.sign``) and served by the portal."""
    if not uri.startswith("s3://"):
        raise ValidationError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        raise ValidationError(f"an s3:// URI needs a bucket and a key: {uri}")
    return f"/objects/{quote(bucket, safe='')}/{quote(key)}"
