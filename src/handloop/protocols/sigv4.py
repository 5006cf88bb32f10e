"""AWS Signature Version 4 verification, in both forms botocore signs: the Authorization
header, and the query string of a pre-signed URL (``X-Amz-Algorithm`` … ``X-Amz-Signature``).

Written here rather than taken from botocore because botocore only signs; verifying needs
the canonical request rebuilt from what arrived on the wire, plus caching of derived
signing keys so the hot path costs one HMAC. ``tests/test_sigv4_properties.py`` checks it
against botocore's signers.

The canonical request is built from the raw request: the path and query exactly as they
came (decoded as latin-1, as ASGI servers hand them over, and turned back into their
bytes here), and each header value trimmed on its own before repeated values are joined.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote, unquote_to_bytes

from handloop.errors import AuthError, HandloopError

ALGORITHM = "AWS4-HMAC-SHA256"
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})\s*$"
)
_CLAIMED = re.compile(r"/(?P<service>[^/\s,]+)/aws4_request")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_AMZ_DATE = re.compile(r"^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z$")
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# What S3 accepts in place of the body's hash; no other service takes an unsigned body.
UNSIGNED = {UNSIGNED_PAYLOAD, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}
# S3's aws-chunked bodies whose every chunk is signed, chained from the request's signature
# (botocore never sends them; other SDKs do over plain HTTP). Only a body read after the
# signature (PutObject, UploadPart) can have its chunks checked, so only such a body may
# be declared so.
STREAMING_SIGNED = {
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
}
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# A signing key is valid for seven days, so a pre-signed URL is at most that (AWS's rule).
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
QUERY_PARAMETERS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_QUERY_PARAMETER_SET = frozenset(QUERY_PARAMETERS)

SecretLookup = Callable[[str], Awaitable[str | None]]
RawHeaders = Iterable[tuple[bytes, bytes]]


class InvalidContentSha256(HandloopError):
    """An S3 request whose ``X-Amz-Content-SHA256`` is missing or is none of the forms S3
    takes, where the body is read only after the signature is checked."""

    code = "InvalidArgument"
    status = 400


@dataclass(frozen=True)
class ChunkSigning:
    """What checks the chunk signatures of a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` body:
    each chunk's signature chains from the one before it, the first from the request's
    (the seed), so no chunk can be changed, dropped or moved without the key."""

    key: bytes
    amz_date: str
    scope: str
    seed: str

    def chunk(self, previous: str, data_sha256: str) -> str:
        """The signature a chunk whose data has SHA-256 ``data_sha256`` must carry."""
        return self._sign(
            f"AWS4-HMAC-SHA256-PAYLOAD\n{self.amz_date}\n{self.scope}\n{previous}\n"
            f"{EMPTY_SHA256}\n{data_sha256}"
        )

    def trailer(self, previous: str, trailer_sha256: str) -> str:
        """The signature of the trailing headers (``name:value\\n`` each), chained from
        the final, empty chunk's."""
        return self._sign(
            f"AWS4-HMAC-SHA256-TRAILER\n{self.amz_date}\n{self.scope}\n{previous}\n{trailer_sha256}"
        )

    def _sign(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedRequest:
    """What a verified signature tells about its request."""

    access_key_id: str
    region: str
    service: str
    # The payload line the signature covers: the body's SHA-256, or what S3 took instead.
    payload_hash: str = ""
    # For a body of signed chunks (STREAMING_SIGNED), what checks them.
    chunks: ChunkSigning | None = None


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    date: str
    region: str
    service: str


@dataclass(frozen=True)
class _Claim:
    """What a request says about its own signature, before any of it is checked."""

    credential: Credential
    signed_headers: list[str]
    signature: str
    amz_date: str  # the signing time, ISO 8601 basic, as it enters the string to sign
    when: datetime
    expires: int | None  # pre-signed URLs only
    query: list[tuple[str, str]]  # the raw pairs that are signed (all but X-Amz-Signature)


def parse_authorization(header: str) -> tuple[Credential, list[str], str]:
    match = _AUTH.match(header)
    if not match:
        raise AuthError(
            "malformed",
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            "parameters in the AWS4-HMAC-SHA256 format.",
            s3_message="The authorization header is malformed; the authorization header "
            "requires three components: Credential, SignedHeaders, and Signature.",
        )
    return (
        _credential(match["credential"], "malformed"),
        match["signed"].split(";"),
        match["signature"],
    )


def _credential(text: str, kind: str) -> Credential:
    parts = text.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
        raise AuthError(
            kind,
            f"Credential '{text}' is not a valid credential scope: it must be "
            "<access key>/<YYYYMMDD>/<region>/<service>/aws4_request.",
        )
    return Credential(*parts[:4])


def claimed_service(headers: dict[str, str], raw_query: str) -> str | None:
    """The service a request says it is signed for (unverified): for choosing how to answer
    before the signature is checked."""
    text = headers.get("authorization", "")
    if not text and "X-Amz-Credential=" in raw_query:
        text = unquote(raw_query.split("X-Amz-Credential=", 1)[1].split("&", 1)[0])
    found = _CLAIMED.search(text)
    return found["service"] if found else None


def _split_query(raw: str) -> list[tuple[str, str]]:
    # Every '&'-separated part is a pair, empty ones included, as botocore signs them.
    if not raw:
        return []
    return [(key, value) for key, _, value in (part.partition("=") for part in raw.split("&"))]


def _query_bytes(part: str) -> bytes:
    return unquote_to_bytes(part.replace("+", " ").encode("latin-1", "replace"))


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    encoded = [
        (quote(_query_bytes(key), safe="-_.~"), quote(_query_bytes(value), safe="-_.~"))
        for key, value in pairs
    ]
    return "&".join(f"{key}={value}" for key, value in sorted(encoded))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, with empty segments dropped too (AWS's normalisation)."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if kept:
                kept.pop()
        else:
            kept.append(segment)
    normalized = "/" + "/".join(kept)
    if path.endswith("/") and kept:
        normalized += "/"
    return normalized


def _canonical_path(raw_path: str, service: str) -> str:
    if service == "s3":
        # S3 signs the path exactly as sent (its keys may hold '//' and '..').
        return raw_path.encode("latin-1", "replace").decode("utf-8", "surrogateescape") or "/"
    return quote(_remove_dot_segments(raw_path).encode("latin-1", "replace"), safe="/~")


def _header_values(raw_headers: RawHeaders) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for raw_name, raw_value in raw_headers:
        name = raw_name.decode("latin-1").lower()
        found = values.get(name)
        if found is None:
            values[name] = [raw_value.decode("latin-1")]
        else:
            found.append(raw_value.decode("latin-1"))
    return values


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _parse_amz_date(text: str) -> datetime | None:
    # A regular expression, not strptime: this runs on every request and strptime costs
    # more than the rest of the verification but the HMACs.
    match = _AMZ_DATE.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = map(int, match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None


def _header_claim(header: str, values: dict[str, list[str]], raw_query: str) -> _Claim:
    credential, signed_headers, signature = parse_authorization(header)
    amz_date = values.get("x-amz-date", [""])[0]
    when = _parse_amz_date(amz_date)
    if "x-amz-date" not in values and "date" in values:
        # Without X-Amz-Date the Date header dates the request (botocore signs with Date
        # when a request carries one).
        try:
            when = parsedate_to_datetime(values["date"][0]).astimezone(UTC)
            amz_date = _iso(when)
        except (TypeError, ValueError):
            when = None
    if when is None:
        raise AuthError(
            "malformed",
            "Authorization requires an X-Amz-Date header in the form YYYYMMDD'T'HHMMSS'Z' "
            "(or an HTTP Date header).",
        )
    return _Claim(
        credential, signed_headers, signature, amz_date, when, None, _split_query(raw_query)
    )


def _query_claim(pairs: list[tuple[str, str]]) -> _Claim:
    params: dict[str, str] = {}
    signed: list[tuple[str, str]] = []
    for key, value in pairs:
        name = unquote(key)
        if name in _QUERY_PARAMETER_SET:
            if name in params:
                raise AuthError("query_malformed", f"The query string holds {name} twice.")
            params[name] = unquote(value)
        if name != "X-Amz-Signature":
            signed.append((key, value))
    missing = [name for name in QUERY_PARAMETERS if name not in params]
    if missing:
        raise AuthError(
            "query_malformed",
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            "X-Amz-Expires parameters.",
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise AuthError(
            "query_malformed",
            'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
        )
    credential = _credential(params["X-Amz-Credential"], "query_malformed")
    amz_date = params["X-Amz-Date"]
    when = _parse_amz_date(amz_date)
    if when is None:
        raise AuthError(
            "query_malformed",
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        )
    expires_text = params["X-Amz-Expires"]
    if not re.fullmatch(r"-?[0-9]{1,12}", expires_text):
        raise AuthError("query_malformed", "X-Amz-Expires should be a number")
    expires = int(expires_text)
    if expires < 0:
        raise AuthError("query_malformed", "X-Amz-Expires must be non-negative")
    if expires > MAX_EXPIRES_SECONDS:
        raise AuthError(
            "query_malformed",
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        )
    signature = params["X-Amz-Signature"]
    if not _SIGNATURE.match(signature):
        raise AuthError("query_malformed", "X-Amz-Signature must be 64 hexadecimal digits.")
    return _Claim(
        credential,
        params["X-Amz-SignedHeaders"].split(";"),
        signature,
        amz_date,
        when,
        expires,
        signed,
    )


def _claim(headers: dict[str, list[str]], raw_query: str) -> _Claim:
    header = headers.get("authorization", [""])[0]
    pairs = _split_query(raw_query) if "X-Amz-" in raw_query else []
    presigned = any(unquote(key) in ("X-Amz-Algorithm", "X-Amz-Credential") for key, _ in pairs)
    if header and presigned:
        raise AuthError(
            "two_mechanisms",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the "
            "Authorization header should be specified.",
        )
    if header.startswith("AWS ") or (not header and "AWSAccessKeyId=" in raw_query):
        raise AuthError(
            "unsupported",
            "The authorization mechanism you have provided is not supported. "
            "Please use AWS4-HMAC-SHA256.",
        )
    if presigned:
        return _query_claim(pairs)
    if not header:
        raise AuthError("missing", "Missing Authentication Token", s3_message="Access Denied")
    return _header_claim(header, headers, raw_query)


class SigV4Verifier:
    """Checks requests' signatures against the secrets ``secret_for`` gives.

    ``secret_for`` is a coroutine function: a key that is not cached is read from the
    database off the event loop.
    """

    def __init__(self, secret_for: SecretLookup, *, region: str, skew_seconds: int) -> None:
        self._secret_for = secret_for
        self._region = region
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

    def _check_scope(self, claim: _Claim, services: Sequence[str]) -> None:
        cred = claim.credential
        presigned = claim.expires is not None
        kind = "query_scope" if presigned else "scope"
        s3_prefix = (
            "Error parsing the X-Amz-Credential parameter;"
            if presigned
            else "The authorization header is malformed;"
        )
        if cred.region != self._region:
            raise AuthError(
                kind,
                f"Credential should be scoped to a valid region, not '{cred.region}'. ",
                s3_message=f"{s3_prefix} the region '{cred.region}' is wrong; "
                f"expecting '{self._region}'",
                s3_details={"Region": self._region},
            )
        if cred.service not in services:
            raise AuthError(
                kind,
                f"Credential should be scoped to correct service: '{services[0]}'. ",
                s3_message=f'{s3_prefix} incorrect service "{cred.service}". '
                f'This endpoint belongs to "{services[0]}".',
            )
        if claim.amz_date[:8] != cred.date:
            raise AuthError(
                kind,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                f"date from HTTP: '{cred.date}' != '{claim.amz_date[:8]}', "
                f"from '{claim.amz_date}'.",
                s3_message=f"{s3_prefix} Invalid credential date. "
                "Date is not the same as X-Amz-Date.",
            )

    def _check_time(self, claim: _Claim, now: datetime) -> None:
        when, skew = claim.when, self._skew
        if claim.expires is None:
            if abs((now - when).total_seconds()) <= skew:
                return
            raise AuthError(
                "expired",
                f"Signature expired: {claim.amz_date} is now earlier than "
                f"{_iso(now - timedelta(seconds=skew))} ({_iso(now)} - {skew // 60} min.)"
                if when < now
                else f"Signature not yet current: {claim.amz_date} is still later than "
                f"{_iso(now + timedelta(seconds=skew))} ({_iso(now)} + {skew // 60} min.)",
                s3_message="The difference between the request time and the current time "
                "is too large.",
            )
        if (when - now).total_seconds() > skew:
            raise AuthError(
                "url_expired",
                f"Signature not yet current: {claim.amz_date} is still later than "
                f"{_iso(now + timedelta(seconds=skew))} ({_iso(now)} + {skew // 60} min.)",
                s3_message="Request is not yet valid",
                s3_details={
                    "X-Amz-Date": claim.amz_date,
                    "ServerTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )
        deadline = when + timedelta(seconds=claim.expires)
        if now > deadline:
            raise AuthError(
                "url_expired",
                f"Signature expired: {claim.amz_date} is now earlier than "
                f"{_iso(now - timedelta(seconds=claim.expires))} "
                f"({_iso(now)} - {claim.expires} s, its X-Amz-Expires)",
                s3_message="Request has expired",
                s3_details={
                    "X-Amz-Expires": str(claim.expires),
                    "Expires": deadline.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "ServerTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            )

    @staticmethod
    def _payload_hash(claim: _Claim, declared: str | None, body: bytes | None) -> str:
        """The payload line of the canonical request: the body's SHA-256, or for S3 alone
        what the request declares (``UNSIGNED-PAYLOAD``; always so for pre-signed URLs).

        ``body`` is None for an S3 body read after the signature: the declared hash is
        signed as it stands, and the reader compares the body with it (or checks its
        chunks' signatures) as it arrives."""
        s3 = claim.credential.service == "s3"
        if s3 and declared in UNSIGNED:
            return declared
        if s3 and declared is None and claim.expires is not None:
            return UNSIGNED_PAYLOAD
        if body is None:
            if not s3:
                raise ValueError("only an S3 body may be read after its signature")
            if declared is None:
                raise InvalidContentSha256(
                    "Missing required header for this request: x-amz-content-sha256"
                )
            if declared in STREAMING_SIGNED or _SHA256_HEX.match(declared):
                return declared
            raise InvalidContentSha256(
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                "STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, "
                "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value."
            )
        if s3 and declared in STREAMING_SIGNED:
            raise InvalidContentSha256(
                f"x-amz-content-sha256 '{declared}' (a body of signed chunks) is accepted "
                "on PutObject and UploadPart only."
            )
        actual = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        if declared is not None and declared != actual:
            if declared in UNSIGNED or declared.startswith("STREAMING-"):
                raise AuthError(
                    "signature",
                    f"'{declared}' is accepted by S3 alone: requests to "
                    f"'{claim.credential.service}' must sign their body's SHA-256.",
                )
            raise AuthError(
                "payload_hash",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        return actual

    async def verify(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        raw_headers: RawHeaders,
        body: bytes | None,
        *,
        services: Sequence[str],
        now: datetime | None = None,
    ) -> SignedRequest:
        """Verify a request: its path and query as they came on the wire (latin-1), its
        headers as ASGI gives them, its body. ``services`` names the signing services the
        request may be scoped to, the one it addresses first.

        ``body`` None stands for an S3 body not read yet (PutObject, UploadPart: up to
        gigabytes, refused before any of it is read if the signature is wrong); the caller
        then checks it against ``payload_hash`` (or ``chunks``) of the result."""
        headers = _header_values(raw_headers)
        claim = _claim(headers, raw_query)
        self._check_scope(claim, services)
        if "host" not in claim.signed_headers:
            raise AuthError("signature", "The 'Host' header must be signed.")
        self._check_time(claim, now or datetime.now(tz=UTC))
        cred = claim.credential
        secret = await self._secret_for(cred.access_key_id)
        if secret is None:
            raise AuthError(
                "unknown_key",
                "The security token included in the request is invalid.",
                s3_message="The AWS Access Key Id you provided does not exist in our records.",
            )
        declared = headers.get("x-amz-content-sha256")
        payload_hash = self._payload_hash(claim, declared[0] if declared else None, body)
        canonical_headers = []
        for name in claim.signed_headers:
            values = headers.get(name)
            if values is None:
                raise AuthError(
                    "signature", f"The header '{name}' is signed but the request lacks it."
                )
            canonical_headers.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}\n")
        canonical = "\n".join(
            (
                method.upper(),
                _canonical_path(raw_path, cred.service),
                _canonical_query(claim.query),
                "".join(canonical_headers),
                ";".join(claim.signed_headers),
                payload_hash,
            )
        )
        scope = f"{cred.date}/{cred.region}/{cred.service}/aws4_request"
        digest = hashlib.sha256(canonical.encode("utf-8", "surrogateescape")).hexdigest()
        string_to_sign = f"{ALGORITHM}\n{claim.amz_date}\n{scope}\n{digest}"
        expected = hmac.new(
            self._signing_key(secret, cred), string_to_sign.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, claim.signature):
            raise AuthError(
                "signature",
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method.",
            )
        chunks = None
        if payload_hash in STREAMING_SIGNED:
            chunks = ChunkSigning(
                self._signing_key(secret, cred), claim.amz_date, scope, claim.signature
            )
        return SignedRequest(cred.access_key_id, cred.region, cred.service, payload_hash, chunks)
