"""handloop's SigV4 verifier checked against botocore's signers.

Random requests (methods, paths with reserved and non-ASCII characters, repeated and empty
query keys, header names in any case with odd whitespace, bodies) are signed by botocore's
``SigV4Auth`` / ``S3SigV4Auth`` and, as pre-signed URLs, by ``SigV4QueryAuth`` /
``S3SigV4QueryAuth``. The verifier must accept each one as it would arrive on the wire,
and refuse it after any single change. botocore is the reference: nothing here rebuilds
a canonical request.

URLs are built the way botocore's serializers build them (labels and query members
percent-encoded, upper-case hex), since a signer that signs the query as written and a
server that normalises it can only agree on such URLs; AWS normalises too.
"""

from __future__ import annotations

import asyncio
import http.client
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from handloop.errors import AuthError
from handloop.protocols.sigv4 import SigV4Verifier
from tests.support import LiveServer

pytestmark = pytest.mark.shared_server

KEY, OTHER_KEY = "HLPROPERTYKEY0000001", "HLPROPERTYKEY0000002"
SECRETS = {KEY: "secret/one+ABCDEFGHIJ0123456789abcdefghij", OTHER_KEY: "secret-two"}
REGION = "us-east-1"
HOST = "handloop.example:8080"
SIGNERS = {
    "sagemaker": (SigV4Auth, SigV4QueryAuth),
    "sts": (SigV4Auth, SigV4QueryAuth),
    "s3": (S3SigV4Auth, S3SigV4QueryAuth),
}
# What may stand unencoded in a path segment (RFC 3986 pchar, '%' aside).
PATH_CHARACTERS = string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@"
# Headers botocore or the transport set themselves.
RESERVED_HEADERS = {
    "host",
    "authorization",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "content-length",
    "transfer-encoding",
    "expect",
    "connection",
}


async def _secret_for(access_key_id: str) -> str | None:
    return SECRETS.get(access_key_id)


@dataclass(frozen=True)
class Wire:
    """A request as an ASGI server hands it over."""

    method: str
    path: str
    query: str
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name.encode():
                return value.decode("latin-1")
        return None

    def with_header(self, name: str, value: str | None) -> Wire:
        """The request with the first ``name`` header changed (or removed)."""
        out, done = [], False
        for key, old in self.headers:
            if key == name.encode() and not done:
                done = True
                if value is not None:
                    out.append((key, value.encode("latin-1")))
            else:
                out.append((key, old))
        return replace(self, headers=tuple(out))

    def with_query_part(self, index: int, change: Callable[[str], str]) -> Wire:
        parts = self.query.split("&")
        parts[index] = change(parts[index])
        return replace(self, query="&".join(parts))


def on_the_wire(request: AWSRequest, body: bytes) -> Wire:
    """What the server receives: the URL's path and query as written, each header line's
    value with surrounding spaces and tabs stripped (as HTTP parsers do), a Host header."""
    url = urlsplit(request.url)
    headers = [
        (name.lower().encode("latin-1"), value.strip(" \t").encode("latin-1"))
        for name, value in request.headers.items()
    ]
    if not any(name == b"host" for name, _ in headers):
        headers.append((b"host", url.netloc.encode()))
    return Wire(request.method, url.path or "/", url.query, tuple(headers), body)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    event_loop = asyncio.new_event_loop()
    yield event_loop
    event_loop.close()


@pytest.fixture(scope="module")
def verify(loop: asyncio.AbstractEventLoop) -> Callable[[Wire, str, datetime], Any]:
    verifier = SigV4Verifier(_secret_for, region=REGION, skew_seconds=300)

    def run(wire: Wire, service: str, now: datetime) -> Any:
        return loop.run_until_complete(
            verifier.verify(
                wire.method,
                wire.path,
                wire.query,
                wire.headers,
                wire.body,
                services=(service,),
                now=now,
            )
        )

    return run


# -- requests -------------------------------------------------------------------------

methods = st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"])
segments = st.one_of(
    st.text(alphabet=PATH_CHARACTERS, max_size=8),
    st.text(max_size=8).map(lambda text: percent_encode(text, safe="")),
    st.sampled_from([".", "..", ""]),
)
paths = st.builds(
    lambda parts, slash: "/" + "/".join(parts) + ("/" if slash and parts else ""),
    st.lists(segments, max_size=6),
    st.booleans(),
)
query_keys = st.one_of(st.sampled_from(["a", "A", "list-type", "", "x y"]), st.text(max_size=6))
query_pairs = st.lists(st.tuples(query_keys, st.text(max_size=6), st.booleans()), max_size=6)
queries = query_pairs.map(
    lambda pairs: "&".join(
        percent_encode(key) + (f"={percent_encode(value)}" if value or equals else "")
        for key, value, equals in pairs
    )
)
header_names = st.one_of(
    st.sampled_from(["X-Custom", "x-custom", "X-CUSTOM", "Content-Type", "Date", "X-Amz-Meta-A"]),
    st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=10),
).filter(lambda name: name.lower() not in RESERVED_HEADERS)
header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
    | st.just("\t"),
    max_size=12,
)
headers = st.lists(st.tuples(header_names, header_values), max_size=5)


@dataclass(frozen=True)
class Signed:
    wire: Wire
    service: str
    now: datetime
    presigned: bool


def sign(
    service: str,
    method: str,
    path: str,
    query: str,
    header_list: list[tuple[str, str]],
    body: bytes,
    *,
    expires: int | None = None,
    base_url: str = f"http://{HOST}",
    key: tuple[str, str] = (KEY, SECRETS[KEY]),
) -> Signed:
    url = f"{base_url}{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in header_list:
        request.headers[name] = value  # adds a line; a repeated name keeps both
    header_signer, query_signer = SIGNERS[service]
    credentials = Credentials(*key)
    now = datetime.now(tz=UTC)
    if expires is None:
        header_signer(credentials, service, REGION).add_auth(request)
    else:
        query_signer(credentials, service, REGION, expires=expires).add_auth(request)
    return Signed(on_the_wire(request, body), service, now, expires is not None)


# -- changes that must each be refused ------------------------------------------------


def _credential_changes(signed: Signed) -> Iterator[tuple[str, Wire]]:
    """Another known key, another region and another service in the credential scope."""
    slash = "%2F" if signed.presigned else "/"  # the credential is encoded in a query
    for name, old, new in (
        ("access key", f"{KEY}{slash}", f"{OTHER_KEY}{slash}"),
        ("unknown key", f"{KEY}{slash}", f"HLUNKNOWN00000000000{slash}"),
        ("region", f"{slash}{REGION}{slash}", f"{slash}eu-west-1{slash}"),
    ):
        if signed.presigned:
            yield name, replace(signed.wire, query=signed.wire.query.replace(old, new, 1))
        else:
            auth = signed.wire.header("authorization")
            assert auth is not None
            yield name, signed.wire.with_header("authorization", auth.replace(old, new, 1))


def _date_changes(signed: Signed) -> Iterator[tuple[str, Wire]]:
    wire = signed.wire
    if signed.presigned:
        parts = wire.query.split("&")
        index = next(i for i, part in enumerate(parts) if part.startswith("X-Amz-Date="))
        when = datetime.strptime(parts[index][len("X-Amz-Date=") :], "%Y%m%dT%H%M%SZ")
        later = f"X-Amz-Date={when + timedelta(seconds=1):%Y%m%dT%H%M%SZ}"
        yield "date", wire.with_query_part(index, lambda _: later)
        return
    amz_date = wire.header("x-amz-date")
    if amz_date is not None:
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        yield (
            "date",
            wire.with_header("x-amz-date", f"{when + timedelta(seconds=1):%Y%m%dT%H%M%SZ}"),
        )
    else:
        date = wire.header("date")
        assert date is not None, "botocore dates every request"
        later = parsedate_to_datetime(date) + timedelta(seconds=1)
        yield "date", wire.with_header("date", later.strftime("%a, %d %b %Y %H:%M:%S GMT"))


def changes(signed: Signed) -> Iterator[tuple[str, Wire]]:
    wire = signed.wire
    other = "POST" if wire.method != "POST" else "PUT"
    yield "method", replace(wire, method=other)
    yield "path", replace(wire, path=wire.path + ("x" if wire.path.endswith("/") else "/x"))
    if wire.query:
        for index in range(len(wire.query.split("&"))):
            yield f"query key {index}", wire.with_query_part(index, lambda part: "k" + part)
            yield (
                f"query value {index}",
                wire.with_query_part(index, lambda part: part + ("x" if "=" in part else "=x")),
            )
    else:
        yield "query added", replace(wire, query="x=y")
    signed_headers = (
        urlsplit(f"?{wire.query}").query.split("X-Amz-SignedHeaders=", 1)[1].split("&")[0]
        if signed.presigned
        else (wire.header("authorization") or "").split("SignedHeaders=", 1)[1].split(",")[0]
    )
    for name in signed_headers.replace("%3B", ";").split(";"):
        value = wire.header(name)
        assert value is not None, name
        yield f"header {name}", wire.with_header(name, value + "x")
        yield f"header {name} removed", wire.with_header(name, None)
    if not (signed.presigned and signed.service == "s3"):  # S3 URLs leave the body unsigned
        yield "body", replace(wire, body=wire.body + b"x")
    yield from _date_changes(signed)
    if signed.presigned:
        parts = wire.query.split("&")
        index = next(i for i, part in enumerate(parts) if part.startswith("X-Amz-Signature="))
        flipped = "0" if parts[index][-1] != "0" else "1"
        yield "signature", wire.with_query_part(index, lambda part: part[:-1] + flipped)
    else:
        auth = wire.header("authorization") or ""
        flipped = "0" if auth[-1] != "0" else "1"
        yield "signature", wire.with_header("authorization", auth[:-1] + flipped)
    yield from _credential_changes(signed)


def check(signed: Signed, verify: Callable[[Wire, str, datetime], Any]) -> None:
    note(f"signed for {signed.service}: {signed.wire}")
    accepted = verify(signed.wire, signed.service, signed.now)
    assert (accepted.access_key_id, accepted.service) == (KEY, signed.service)
    for what, changed in changes(signed):
        assert changed != signed.wire, what
        with pytest.raises(AuthError):
            verify(changed, signed.service, signed.now)
            note(f"accepted after changing the {what}: {changed}")


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    service=st.sampled_from(sorted(SIGNERS)),
    method=methods,
    path=paths,
    query=queries,
    header_list=headers,
    body=st.binary(max_size=64),
)
def test_header_signatures_match_botocore(
    verify: Callable[[Wire, str, datetime], Any],
    service: str,
    method: str,
    path: str,
    query: str,
    header_list: list[tuple[str, str]],
    body: bytes,
) -> None:
    check(sign(service, method, path, query, header_list, body), verify)


@PROPERTY
@given(
    service=st.sampled_from(sorted(SIGNERS)),
    method=methods,
    path=paths,
    query=queries,
    header_list=headers,
    expires=st.integers(min_value=1, max_value=604800),
)
def test_presigned_urls_match_botocore(
    verify: Callable[[Wire, str, datetime], Any],
    service: str,
    method: str,
    path: str,
    query: str,
    header_list: list[tuple[str, str]],
    expires: int,
) -> None:
    check(sign(service, method, path, query, header_list, b"", expires=expires), verify)


# -- the same through a live server ---------------------------------------------------


AUTH_CODES = {
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignatureException",
    "IncompleteSignature",
    "AuthorizationHeaderMalformed",
    "XAmzContentSHA256Mismatch",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
}


def send(server: LiveServer, wire: Wire) -> tuple[int, str | None]:
    """Send ``wire`` byte for byte (http.client keeps the target and the header lines as
    given, where an HTTP library would re-encode them); the status and AWS error code."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    target = wire.path + (f"?{wire.query}" if wire.query else "")
    connection.putrequest(wire.method, target, skip_host=True, skip_accept_encoding=True)
    for name, value in wire.headers:
        connection.putheader(name.decode("latin-1"), value)
    connection.putheader("Content-Length", str(len(wire.body)))
    connection.endheaders(wire.body)
    response = connection.getresponse()
    text = response.read().decode("utf-8", "replace")
    connection.close()
    code = response.getheader("x-amzn-errortype")
    if code is None and "<Code>" in text:
        code = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    return response.status, code


LIVE_CASES = [
    pytest.param(
        "sts",
        "POST",
        "/",
        "a=1&a=&=x&b&&A=%C3%BC",
        [
            ("X-Custom", " a  b "),
            ("x-custom", "c\t"),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        b"Action=GetCallerIdentity&Version=2011-06-15",
        id="sts: repeated and empty query keys, one header name in two cases",
    ),
    pytest.param(
        "sts",
        "POST",
        "/",
        "",
        [("Date", "set by botocore"), ("Content-Type", "application/x-www-form-urlencoded")],
        b"Action=GetCallerIdentity&Version=2011-06-15",
        id="sts: dated by the Date header",
    ),
    pytest.param(
        "sagemaker",
        "GET",
        "/human-loops/" + percent_encode("ü a/b;c", safe=""),
        "",
        [],
        b"",
        id="a2i: a label with reserved and non-ASCII characters",
    ),
    pytest.param(
        "s3",
        "GET",
        "/review-bucket",
        "list-type=2&prefix=" + percent_encode("a b/ü+"),
        [("X-Amz-Meta-A", "\tx  y")],
        b"",
        id="s3: a listing with an encoded prefix",
    ),
]


@pytest.mark.parametrize(("service", "method", "path", "query", "header_list", "body"), LIVE_CASES)
def test_live_server_agrees(
    server: LiveServer,
    service: str,
    method: str,
    path: str,
    query: str,
    header_list: list[tuple[str, str]],
    body: bytes,
) -> None:
    key = server.default_key
    signed = sign(
        service,
        method,
        path,
        query,
        header_list,
        body,
        base_url=server.url,
        key=(key["AccessKeyId"], key["SecretAccessKey"]),
    )
    status, code = send(server, signed.wire)
    assert code not in AUTH_CODES, (status, code)
    for what, changed in changes(signed):
        if what.startswith(("access key", "unknown key")):
            continue  # keys of the property tests; this server has its own
        status, code = send(server, changed)
        assert code in AUTH_CODES or code == "MissingAuthenticationTokenException", (what, code)
