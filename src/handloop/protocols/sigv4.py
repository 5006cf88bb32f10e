"""AWS Signature Version 4 verification (header form), as botocore signs requests.

Written here rather than taken from botocore because botocore only signs; verifying needs
the canonical request rebuilt from what arrived on the wire, plus caching of derived
signing keys so the hot path costs one HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from handloop.errors import AuthError

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = {"UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}

SecretLookup = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True)
class SignedRequest:
    """What a verified signature tells about its request."""

    access_key_id: str
    region: str
    service: str


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    date: str
    region: str
    service: str


def parse_authorization(header: str) -> tuple[Credential, list[str], str]:
    match = _AUTH.match(header)
    if not match:
        raise AuthError(
            "malformed",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "parameters in the AWS4-HMAC-SHA256 format.",
        )
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise AuthError(
            "malformed", f"Credential '{match['credential']}' is not a valid credential scope."
        )
    return Credential(*parts[:4]), match["signed"].split(";"), match["signature"]


def _canonical_query(raw: str) -> str:
    if not raw:
        return ""
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        pairs.append(
            (
                quote(unquote(key.replace("+", " ")), safe="-_.~"),
                quote(unquote(value.replace("+", " ")), safe="-_.~"),
            )
        )
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_path(raw_path: str, service: str) -> str:
    if service == "s3":
        return raw_path or "/"
    normalized = posixpath.normpath(raw_path) if raw_path else "/"
    if raw_path.endswith("/") and normalized != "/":
        normalized += "/"
    if normalized.startswith("//"):
        normalized = "/" + normalized.lstrip("/")
    return quote(normalized, safe="/~")


class SigV4Verifier:
    """Checks requests' signatures against the secrets ``secret_for`` gives.

    ``secret_for`` is a coroutine function: a key that is not cached is read from the
    database off the event loop.
    """

    def __init__(self, secret_for: SecretLookup, skew_seconds: int) -> None:
        self._secret_for = secret_for
        self._skew = skew_seconds
        self._keys: dict[tuple[str, str, str, str, str], bytes] = {}

    def _signing_key(self, secret: str, cred: Credential) -> bytes:
        cache_key = (cred.access_key_id, secret, cred.date, cred.region, cred.service)
        key = self._keys.get(cache_key)
        if key is None:
            key = hmac.new(f"AWS4{secret}".encode(), cred.date.encode(), hashlib.sha256).digest()
            for part in (cred.region, cred.service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            if len(self._keys) > 4096:
                self._keys.clear()
            self._keys[cache_key] = key
        return key

    async def verify(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: dict[str, str],
        body: bytes,
        now: datetime | None = None,
    ) -> SignedRequest:
        """Verify a request; ``headers`` maps lower-case names to values (repeats joined by ',')."""
        header = headers.get("authorization")
        if not header:
            raise AuthError("missing", "Missing Authentication Token")
        cred, signed_headers, signature = parse_authorization(header)
        amz_date = headers.get("x-amz-date", "")
        try:
            when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except ValueError:
            raise AuthError(
                "malformed",
                "Authorization requires an X-Amz-Date header in the form YYYYMMDD'T'HHMMSS'Z'.",
            ) from None
        if amz_date[:8] != cred.date:
            raise AuthError("signature", "Date in Credential scope does not match X-Amz-Date.")
        if "host" not in signed_headers:
            raise AuthError("signature", "The 'Host' header must be signed.")
        now = now or datetime.now(tz=UTC)
        if abs((now - when).total_seconds()) > self._skew:
            earliest = now.timestamp() - self._skew
            raise AuthError(
                "expired",
                f"Signature expired: {amz_date} is now earlier than "
                f"{datetime.fromtimestamp(earliest, tz=UTC):%Y%m%dT%H%M%SZ} "
                f"({now:%Y%m%dT%H%M%SZ} - {self._skew // 60} min.)"
                if when < now
                else f"Signature not yet current: {amz_date} is still later than "
                f"{datetime.fromtimestamp(now.timestamp() + self._skew, tz=UTC):%Y%m%dT%H%M%SZ} "
                f"({now:%Y%m%dT%H%M%SZ} + {self._skew // 60} min.)",
            )
        secret = await self._secret_for(cred.access_key_id)
        if secret is None:
            raise AuthError(
                "unknown_key",
                "The security token included in the request is invalid."
                if cred.service != "s3"
                else "The AWS Access Key Id you provided does not exist in our records.",
            )
        payload_hash = headers.get("x-amz-content-sha256")
        if payload_hash is None or payload_hash not in UNSIGNED:
            actual = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
            if payload_hash is not None and payload_hash != actual:
                raise AuthError(
                    "signature",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                )
            payload_hash = actual
        canonical_headers = "".join(
            f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed_headers
        )
        canonical = "\n".join(
            (
                method.upper(),
                _canonical_path(raw_path, cred.service),
                _canonical_query(raw_query),
                canonical_headers,
                ";".join(signed_headers),
                payload_hash,
            )
        )
        scope = f"{cred.date}/{cred.region}/{cred.service}/aws4_request"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        string_to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{digest}"
        expected = hmac.new(
            self._signing_key(secret, cred), string_to_sign.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise AuthError(
                "signature",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method.",
            )
        return SignedRequest(cred.access_key_id, cred.region, cred.service)
