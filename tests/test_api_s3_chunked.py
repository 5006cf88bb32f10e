"""The aws-chunked decoder and the chunk signatures of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``
bodies, checked against the worked example of AWS's documentation ("Signature calculations
for the Authorization header: transferring payload in multiple chunks"), whose signatures
were computed by AWS, not by this code."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from handloop.errors import AuthError, HandloopError
from handloop.protocols.aws_chunked import AwsChunkedDecoder
from handloop.protocols.sigv4 import SigV4Verifier
from tests.s3_support import chunked, crc32, signed_chunks, signing_key

# AWS's example: PUT /examplebucket/chunkObject.txt, 66,560 bytes of 'a' in a 64 KiB and a
# 1 KiB chunk, by the documentation's example key.
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
DATA = b"a" * 66560
EXAMPLE_BODY = (
    f"10000;chunk-signature={CHUNK_SIGNATURES[0]}\r\n".encode()
    + b"a" * 65536
    + f"\r\n400;chunk-signature={CHUNK_SIGNATURES[1]}\r\n".encode()
    + b"a" * 1024
    + f"\r\n0;chunk-signature={CHUNK_SIGNATURES[2]}\r\n\r\n".encode()
)
SIGNED_HEADERS = (
    "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
    "x-amz-decoded-content-length;x-amz-storage-class"
)
EXAMPLE_HEADERS = [
    (b"host", b"s3.amazonaws.com"),
    (b"x-amz-date", b"20130524T000000Z"),
    (b"x-amz-storage-class", b"REDUCED_REDUNDANCY"),
    (
        b"authorization",
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20130524/us-east-1/s3/aws4_request,"
        f"SignedHeaders={SIGNED_HEADERS},Signature={SEED}".encode(),
    ),
    (b"x-amz-content-sha256", b"STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    (b"content-encoding", b"aws-chunked"),
    (b"x-amz-decoded-content-length", b"66560"),
    (b"content-length", b"66824"),
]


def _example_signing() -> object:
    async def secret_for(key_id: str) -> str | None:
        return SECRET if key_id == ACCESS_KEY else None

    verifier = SigV4Verifier(secret_for, region="us-east-1", skew_seconds=300)
    signed = asyncio.run(
        verifier.verify(
            "PUT",
            "/examplebucket/chunkObject.txt",
            "",
            EXAMPLE_HEADERS,
            None,  # the body is read after the signature
            services=("s3",),
            now=datetime(2013, 5, 24, tzinfo=UTC),
        )
    )
    assert signed.payload_hash == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    assert signed.chunks is not None and signed.chunks.seed == SEED
    return signed.chunks


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def decode(body: bytes, signing: object = None, size: int = 1000) -> tuple[bytes, dict[str, str]]:
    decoder = AwsChunkedDecoder(signing)  # type: ignore[arg-type]
    out = b"".join(b"".join(decoder.feed(piece)) for piece in _pieces(body, size))
    decoder.finish()
    return out, decoder.trailers


@pytest.mark.parametrize("size", [1, 7, 1000, 70_000])
def test_aws_example_is_accepted_however_it_arrives(size: int) -> None:
    data, trailers = decode(EXAMPLE_BODY, _example_signing(), size)
    assert data == DATA and trailers == {}


def test_the_tests_chunk_signer_makes_the_aws_example() -> None:
    body = signed_chunks(
        DATA,
        key=signing_key(SECRET, "20130524"),
        amz_date="20130524T000000Z",
        scope="20130524/us-east-1/s3/aws4_request",
        seed=SEED,
        size=65536,
    )
    assert body == EXAMPLE_BODY


@pytest.mark.parametrize(
    "tamper",
    [
        lambda body: body.replace(b"aaaa", b"aaab", 1),  # a byte of data
        lambda body: body.replace(CHUNK_SIGNATURES[1].encode(), b"0" * 64),
        lambda body: body.replace(b";chunk-signature=" + CHUNK_SIGNATURES[0].encode(), b""),
        # the 1 KiB chunk dropped: the final chunk's signature no longer chains
        lambda body: body[:65626] + body[65626 + 1112 :],
    ],
    ids=["data", "signature", "unsigned chunk", "chunk dropped"],
)
def test_aws_example_tampered_is_refused(tamper: object) -> None:
    with pytest.raises(AuthError) as info:
        decode(tamper(EXAMPLE_BODY), _example_signing())  # type: ignore[operator]
    assert info.value.code_for("s3") == ("SignatureDoesNotMatch", 403)


def test_signed_trailer() -> None:
    signing = _example_signing()
    arguments = {
        "key": signing_key(SECRET, "20130524"),
        "amz_date": "20130524T000000Z",
        "scope": "20130524/us-east-1/s3/aws4_request",
        "seed": SEED,
    }
    trailer = {"x-amz-checksum-crc32": crc32(DATA)}
    body = signed_chunks(DATA, trailer=trailer, **arguments)  # type: ignore[arg-type]
    assert decode(body, signing) == (DATA, trailer)
    forged = body.replace(crc32(DATA).encode(), crc32(b"other").encode())
    with pytest.raises(AuthError):
        decode(forged, signing)


@pytest.mark.parametrize("size", [1, 3, 100_000])
def test_unsigned_body_with_a_trailer(size: int) -> None:
    data = bytes(range(256)) * 700
    body = chunked(data, 10_000, {"x-amz-checksum-crc32": crc32(data)})
    assert decode(body, size=size) == (data, {"x-amz-checksum-crc32": crc32(data)})


def test_trailer_without_its_last_line_end() -> None:
    body = chunked(b"abc", trailer={"x-amz-checksum-crc32": crc32(b"abc")})
    assert decode(body[:-2]) == (b"abc", {"x-amz-checksum-crc32": crc32(b"abc")})


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"zz\r\nabc\r\n0\r\n\r\n", "IncompleteBody"),  # not a size
        (b"3\r\nabcd\r\n0\r\n\r\n", "IncompleteBody"),  # longer than its size
        (b"3\r\nabc\r\n", "IncompleteBody"),  # no final chunk
        (b"3\r\nabc\r\n0\r\n\r\nmore", "IncompleteBody"),  # data after the end
        (b"1" * 300, "IncompleteBody"),  # a header line without end
        (b"3\r\nabc\r\n0\r\nno colon\r\n\r\n", "MalformedTrailerError"),
        (b"0\r\n" + b"x-a:" + b"b" * 20_000 + b"\r\n\r\n", "MalformedTrailerError"),
    ],
    ids=["size", "overrun", "unfinished", "after end", "long line", "trailer", "long trailer"],
)
def test_malformed_bodies(body: bytes, code: str) -> None:
    with pytest.raises(HandloopError) as info:
        decode(body)
    assert info.value.code_for("s3")[0] == code
