"""Short-lived signed URLs for things handloop serves without a session (template files,
output objects granted to a task page)."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode

from handloop.templating import object_path

# How long a link made by grant_read_access stays valid (the portal renders the task page
# afresh each time a task is opened).
GRANT_TTL_SECONDS = 3600


class UrlSigner:
    def __init__(self, deployment_key: bytes, public_url: str) -> None:
        self._key = hmac.new(deployment_key, b"handloop signed urls", hashlib.sha256).digest()
        self.public_url = public_url

    def _mac(self, path: str, expires: int) -> str:
        return hmac.new(self._key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def sign(self, path: str, ttl_seconds: int = 3600) -> str:
        """An absolute URL for ``path`` (which starts with '/') valid for ``ttl_seconds``."""
        expires = int(time.time()) + ttl_seconds
        query = urlencode({"expires": expires, "signature": self._mac(path, expires)})
        return f"{self.public_url}{path}?{query}"

    def grant_read_access(self, uri: str) -> str:
        """Ground Truth's ``grant_read_access``: an ``s3://`` URI becomes a short-lived signed
        handloop URL of that object; any other URL passes through unchanged."""
        if not uri.startswith("s3://"):
            return uri
        return self.sign(object_path(uri), GRANT_TTL_SECONDS)

    def verify(self, path: str, expires: str | None, signature: str | None) -> bool:
        # Query values are any text a client sends: only a few ASCII digits are a time, and the
        # signature is compared as bytes (compare_digest refuses non-ASCII strings).
        if not signature or not (expires and len(expires) <= 20 and expires.isascii()):
            return False
        if not expires.isdigit():
            return False
        if int(expires) < time.time():
            return False
        given = signature.encode("utf-8", "surrogatepass")
        return hmac.compare_digest(self._mac(path, int(expires)).encode(), given)
