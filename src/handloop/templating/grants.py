"""Where a granted ``s3://`` object is served, so every caller signs the same path."""

from __future__ import annotations

from urllib.parse import quote

from handloop.errors import ValidationError


def object_path(uri: str) -> str:
    """The handloop path of ``s3://bucket/key``: ``/objects/bucket/key`` (URL-quoted),
    to be signed (``services.urls.sign``) and served by the portal."""
    if not uri.startswith("s3://"):
        raise ValidationError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket or not key:
        raise ValidationError(f"an s3:// URI needs a bucket and a key: {uri}")
    return f"/objects/{quote(bucket, safe='')}/{quote(key)}"
