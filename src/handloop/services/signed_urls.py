"""Short-lived signed URLs for things handloop serves without a session (template files,
output objects granted to a task page)."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode


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

    def verify(self, path: str, expires: str | None, signature: str | None) -> bool:
        if not expires or not signature or not expires.isdigit():
            return False
        if int(expires) < time.time():
            return False
        return hmac.compare_digest(self._mac(path, int(expires)), signature)
