"""S3's writes (PutObject, multipart uploads, DeleteObject, CreateBucket, HeadBucket) as
boto3 sends them, over the same store the read-only calls of ``s3.py`` read.

A PUT body is read only after its signature is checked (``SigV4Verifier.verify`` with no
body), and then streamed to a file in the store's staging folder while it is decoded
(``aws-chunked``) and hashed: MD5 for the ETag, the additional checksum the client sent
(``x-amz-checksum-*``, in a header or a trailer), SHA-256 when the signature covers the
body. Nothing of it becomes an object unless every one matches; it never sits whole in
memory, and a body over ``HANDLOOP_MAX_OBJECT_BYTES`` is refused as soon as that is known.

What botocore sends (1.36 and later, whose default ``request_checksum_calculation`` is
``when_supported``): over ``http://``, the checksum (CRC32 unless ``ChecksumAlgorithm``
says otherwise) in a header and the body's SHA-256 signed; over ``https://`` (handloop
behind a TLS proxy) an ``aws-chunked`` body with the checksum in a trailer, signed as
``STREAMING-UNSIGNED-PAYLOAD-TRAILER``, or ``UNSIGNED-PAYLOAD`` where the transfer manager
keeps the checksum in a header. Bodies of signed chunks come from other SDKs; they are
checked chunk by chunk.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import quote
from xml.sax.saxutils import escape

from starlette.types import Receive, Scope

from handloop.blobs import (
    BlobStore,
    BucketNotFound,
    ChecksumMismatch,
    KeyConflict,
    NoSuchUpload,
    PartChanged,
    PartInfo,
    UpstreamRefused,
    checksums,
)
from handloop.domain import s3_names
from handloop.errors import AuthError, HandloopError
from handloop.protocols import s3
from handloop.protocols.aws_chunked import AwsChunkedDecoder
from handloop.protocols.request_text import decode, parse_form
from handloop.protocols.s3_errors import S3Error, invalid_argument, invalid_request
from handloop.protocols.sigv4 import SignedRequest
from handloop.services import Services

NS = s3.NS
MIN_PART_BYTES = 5 * 1024 * 1024  # S3's: every part but the last
MAX_PARTS = 10_000
MAX_SMALL_BODY = 64 * 1024  # CreateBucket's configuration
# Received bytes are decoded, hashed and written off the event loop, this many at a time.
BATCH_BYTES = 1024 * 1024
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# Query parameters that are not a sub-resource (which names another operation).
_NOT_SUBRESOURCES = ("x-id",)
_COMPOSITE_ONLY = frozenset(checksums.ALGORITHMS) - checksums.CRCS

Headers = list[tuple[bytes, bytes]]
Answer = tuple[int, Headers, bytes]
T = TypeVar("T")


class ClientGone(HandloopError):
    """The client closed the connection before its body was in: nobody reads the answer."""

    code = "RequestTimeout"
    status = 400


def not_implemented(what: str) -> S3Error:
    return S3Error(
        "NotImplemented",
        f"{what} is not implemented by handloop's S3 API (see docs/api.md).",
        501,
    )


def _entity_too_large(size: int | str, limit: int) -> S3Error:
    return S3Error(
        "EntityTooLarge",
        f"Your proposed upload exceeds the maximum allowed size: {size} bytes, where "
        f"{limit} are left for it (HANDLOOP_MAX_OBJECT_BYTES bounds an object, and the "
        "parts of a multipart upload together).",
    )


def _no_such_upload() -> S3Error:
    return S3Error(
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload "
        "may have been aborted or completed.",
        404,
    )


def _no_such_bucket() -> S3Error:
    return S3Error("NoSuchBucket", "The specified bucket does not exist.", 404)


def _xml(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>{body}'.encode()


XML_TYPE = (b"content-type", b"application/xml")


def writable_key(key: str) -> str:
    """``key`` if the store can hold an object there; else S3's error for a key refused.

    S3 itself takes any key of 1 to 1,024 bytes, but a key with an empty, ``.`` or ``..``
    segment, a NUL, or a backslash (a separator where the folder store runs on Windows)
    could not be a file of the local store, or would name one outside it."""
    try:
        s3_names.check_key(key)
    except s3_names.InvalidKey as exc:
        code = "KeyTooLongError" if exc.too_long else "InvalidArgument"
        raise S3Error(code, exc.message) from None
    if "\\" in key:
        raise invalid_argument(
            f"Key '{key[:80]}' holds a backslash, which handloop's output store cannot hold "
            "(a folder store on Windows would take it as a separator)."
        )
    return key


async def _run(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A store call, off the event loop, its errors S3's."""
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except BucketNotFound:
        raise _no_such_bucket() from None
    except NoSuchUpload:
        raise _no_such_upload() from None
    except KeyConflict as exc:
        raise invalid_argument(str(exc)) from None
    except UpstreamRefused as exc:
        raise S3Error(exc.code, f"The output store refused: {exc.message}", exc.status) from None


# -- bodies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Body:
    """A request body received whole and checked, in a file of the staging folder."""

    path: Path
    size: int
    md5: str  # hex: the ETag of an object or part of it
    checksum_algorithm: str  # "" when neither the client nor the upload asked for one
    checksum: str  # base64


class _Expected:
    """What a PUT's headers say its body is; checked before a byte of it is read."""

    def __init__(
        self, headers: dict[str, str], signed: SignedRequest, limit: int, default_algorithm: str
    ) -> None:
        declared = signed.payload_hash
        encodings = [
            item.strip().lower() for item in headers.get("content-encoding", "").split(",")
        ]
        self.chunked = declared.startswith("STREAMING-") or "aws-chunked" in encodings
        self.sha256 = declared if _SHA256_HEX.match(declared) else None
        self.signing = signed.chunks
        length_header = "x-amz-decoded-content-length" if self.chunked else "content-length"
        self.length_header = length_header
        self.length = _length(headers.get(length_header), length_header)
        if self.length is not None and self.length > limit:
            raise _entity_too_large(self.length, limit)
        self.limit = limit
        self.md5 = _content_md5(headers.get("content-md5"))
        self.algorithm, self.checksum, self.trailer = self._checksum(headers, default_algorithm)

    def _checksum(
        self, headers: dict[str, str], default_algorithm: str
    ) -> tuple[str, bytes | None, str | None]:
        """The algorithm to compute, the checksum a header gives, or the trailer that will."""
        given: list[tuple[str, str]] = []  # (algorithm, header name)
        for name in headers:
            if name.startswith(checksums.HEADER_PREFIX) and name not in (
                "x-amz-checksum-algorithm",
                "x-amz-checksum-type",
                "x-amz-checksum-mode",
            ):
                algorithm = checksums.algorithm_of_header(name)
                if algorithm is None:
                    raise invalid_request(f"The checksum header {name} is not supported.")
                given.append((algorithm, name))
        trailers = [
            item.strip().lower()
            for item in headers.get("x-amz-trailer", "").split(",")
            if item.strip()
        ]
        if trailers and not self.chunked:
            raise invalid_request(
                "x-amz-trailer is given, but the body is not aws-chunked "
                "(Content-Encoding: aws-chunked), the only encoding with a trailer."
            )
        for name in trailers:
            algorithm = checksums.algorithm_of_header(name)
            if algorithm is None:
                raise invalid_request(
                    f"The trailer {name} is not supported: only an x-amz-checksum-* trailer is."
                )
            given.append((algorithm, ""))
        if len(given) > 1:
            raise invalid_request(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not "
                "allowed."
            )
        sdk = headers.get("x-amz-sdk-checksum-algorithm", "").strip().upper()
        if sdk:
            if sdk not in checksums.ALGORITHMS:
                raise invalid_request(
                    "Checksum algorithm provided is unsupported. Please try again with any of "
                    f"the valid types: [{', '.join(checksums.ALGORITHMS)}]"
                )
            if not given:
                raise invalid_request(
                    "x-amz-sdk-checksum-algorithm specified, but no corresponding "
                    "x-amz-checksum-* or x-amz-trailer headers were found."
                )
            if given[0][0] != sdk:
                raise invalid_request("Value for x-amz-sdk-checksum-algorithm header is invalid.")
        if not given:
            return default_algorithm, None, None
        algorithm, name = given[0]
        if default_algorithm and algorithm != default_algorithm:
            raise invalid_request(
                "Checksum Type mismatch occurred, expected checksum Type: "
                f"{default_algorithm.lower()}, actual checksum Type: {algorithm.lower()}"
            )
        if not name:
            return algorithm, None, checksums.header(algorithm)
        digest = checksums.decode(algorithm, headers[name])
        if digest is None:
            raise invalid_request(f"Value for {name} header is invalid.")
        return algorithm, digest, None


def _length(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    if not text.strip().isdigit():
        raise invalid_argument(f"The {name} header must be a number of bytes, not '{text[:40]}'.")
    return int(text)


def _content_md5(text: str | None) -> bytes | None:
    if text is None:
        return None
    digest = checksums.decode("MD5", text)
    if digest is None:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
    return digest


class _BodyWriter:
    """Decodes, hashes, counts and writes one body: run off the event loop, one batch of
    received bytes at a time."""

    def __init__(self, expected: _Expected, handle: BinaryIO) -> None:
        self.expected = expected
        self._handle = handle
        self._decoder = AwsChunkedDecoder(expected.signing) if expected.chunked else None
        if expected.signing is not None and self._decoder is None:  # pragma: no cover
            raise invalid_request("A body of signed chunks must be aws-chunked.")
        self._sha256 = hashlib.sha256() if expected.sha256 else None
        self._md5 = hashlib.md5()
        self._hasher = checksums.ALGORITHMS[expected.algorithm]() if expected.algorithm else None
        self.size = 0
        self._wire = 0
        # The encoding's own bytes (chunk headers, trailer) are a few in a thousand for any
        # client's chunks; a body of tiny chunks is refused before it costs much.
        self._wire_limit = expected.limit + expected.limit // 16 + 1024 * 1024

    def write(self, data: bytes) -> None:
        self._wire += len(data)
        if self._wire > self._wire_limit:
            raise _entity_too_large(f"over {self.expected.limit}", self.expected.limit)
        if self._sha256 is not None:
            self._sha256.update(data)
        pieces = self._decoder.feed(data) if self._decoder is not None else [data]
        for piece in pieces:
            self.size += len(piece)
            if self.size > self.expected.limit:
                raise _entity_too_large(f"over {self.expected.limit}", self.expected.limit)
            self._md5.update(piece)
            if self._hasher is not None:
                self._hasher.update(piece)
            self._handle.write(piece)

    def finish(self) -> tuple[str, str]:
        """Every check the whole body allows; its MD5 (hex) and checksum (base64)."""
        expected = self.expected
        if self._decoder is not None:
            self._decoder.finish()
        if expected.length is not None and self.size != expected.length:
            raise S3Error(
                "IncompleteBody",
                f"You did not provide the number of bytes specified by the "
                f"{expected.length_header} HTTP header: {expected.length} declared, "
                f"{self.size} received.",
            )
        if self._sha256 is not None and self._sha256.hexdigest() != expected.sha256:
            raise AuthError(
                "payload_hash",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
        md5 = self._md5.digest()
        if expected.md5 is not None and md5 != expected.md5:
            raise S3Error(
                "BadDigest", "The Content-MD5 you specified did not match what we received."
            )
        checksum = ""
        if self._hasher is not None:
            digest = self._hasher.digest()
            claimed = expected.checksum
            if expected.trailer is not None:
                assert self._decoder is not None
                value = self._decoder.trailers.get(expected.trailer)
                if value is None:
                    raise S3Error(
                        "MalformedTrailerError",
                        f"The trailer {expected.trailer} named by x-amz-trailer is missing "
                        "from the request body.",
                    )
                claimed = checksums.decode(expected.algorithm, value)
                if claimed is None:
                    raise invalid_request(
                        f"Value for {expected.trailer} trailing header is invalid."
                    )
            if claimed is not None and claimed != digest:
                raise S3Error(
                    "BadDigest",
                    f"The {expected.algorithm} you specified did not match the calculated "
                    f"checksum: {checksums.encode(claimed)} given, "
                    f"{checksums.encode(digest)} computed.",
                )
            checksum = checksums.encode(digest)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return md5.hex(), checksum


async def read_body(
    receive: Receive,
    headers: dict[str, str],
    signed: SignedRequest,
    store: BlobStore,
    limit: int,
    default_algorithm: str = "",
) -> Body:
    """The request's body, received into a staging file and checked; refused (and the file
    gone) if any check fails. The caller hands the file to the store and removes what is
    left of it either way."""
    expected = _Expected(headers, signed, limit, default_algorithm)
    staging = store.staging
    await asyncio.to_thread(staging.mkdir, mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=staging, prefix=".tmp-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer = _BodyWriter(expected, handle)
            batch: list[bytes] = []
            batched = 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone("The client closed the connection before its body was in.")
                data = message.get("body", b"")
                if data:
                    batch.append(data)
                    batched += len(data)
                more = message.get("more_body", False)
                if batched >= BATCH_BYTES or (batch and not more):
                    await asyncio.to_thread(writer.write, b"".join(batch))
                    batch.clear()
                    batched = 0
                if not more:
                    break
            md5, checksum = await asyncio.to_thread(writer.finish)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Body(path, writer.size, md5, expected.algorithm, checksum)


async def _small_body(receive: Receive) -> bytes:
    """A body that is a few bytes of XML at most (CreateBucket's)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone("The client closed the connection before its body was in.")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_SMALL_BODY:
            raise S3Error("MaxMessageLengthExceeded", "Your request was too big.", 400)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _checksum_headers(algorithm: str, checksum: str, checksum_type: str = "") -> Headers:
    if not algorithm or not checksum:
        return []
    out = [(checksums.header(algorithm).encode(), checksum.encode())]
    if checksum_type:
        out.append((b"x-amz-checksum-type", checksum_type.encode()))
    return out


# -- XML --------------------------------------------------------------------------------------


def _parse_xml(body: bytes, root: str) -> ElementTree.Element:
    """The document's root element, named ``root`` (in S3's namespace or none). A DOCTYPE
    is refused outright: no S3 document has one, and entities could expand without end."""
    malformed = S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published "
        "schema.",
    )
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise malformed
    try:
        element = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise malformed from None
    if _local(element.tag) != root:
        raise malformed
    return element


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == name]


def _text(element: ElementTree.Element, name: str) -> str | None:
    found = _children(element, name)
    return (found[0].text or "").strip() if found else None


# -- operations -------------------------------------------------------------------------------


async def put_object(
    services: Services,
    bucket: str,
    key: str,
    headers: dict[str, str],
    signed: SignedRequest,
    receive: Receive,
) -> Answer:
    store = services.blobs
    body = await read_body(receive, headers, signed, store, services.settings.max_object_bytes)
    try:
        etag = await _run(store.put_file, bucket, key, body.path, etag=body.md5)
    finally:
        body.path.unlink(missing_ok=True)
    return (
        200,
        [
            (b"etag", f'"{etag}"'.encode()),
            *_checksum_headers(body.checksum_algorithm, body.checksum, "FULL_OBJECT"),
        ],
        b"",
    )


async def delete_object(services: Services, bucket: str, key: str) -> Answer:
    await _run(services.blobs.delete, bucket, key)
    return 204, [], b""


async def create_bucket(services: Services, bucket: str, receive: Receive) -> Answer:
    body = await _small_body(receive)
    region = services.settings.region
    if body.strip():
        config = _parse_xml(body, "CreateBucketConfiguration")
        constraint = _text(config, "LocationConstraint")
        if constraint and constraint != region:
            raise S3Error(
                "IllegalLocationConstraintException",
                f"The {constraint} location constraint is incompatible for the region "
                f"specific endpoint this request was sent to ({region}).",
            )
    made = await _run(services.blobs.create_bucket, bucket)
    if not made and region != "us-east-1":
        # us-east-1 answers 200 again for a bucket its owner re-creates (AWS's legacy rule).
        raise S3Error(
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
            409,
        )
    return 200, [(b"location", f"/{bucket}".encode())], b""


async def head_bucket(services: Services, bucket: str) -> Answer:
    if not await _run(services.blobs.bucket_exists, bucket):
        raise _no_such_bucket()
    return 200, [(b"x-amz-bucket-region", services.settings.region.encode())], b""


def _upload_checksum(headers: dict[str, str]) -> tuple[str, str]:
    """CreateMultipartUpload's checksum algorithm and type (S3's defaults and rules)."""
    algorithm = headers.get("x-amz-checksum-algorithm", "").strip().upper()
    checksum_type = headers.get("x-amz-checksum-type", "").strip().upper()
    if algorithm and algorithm not in checksums.ALGORITHMS:
        raise invalid_request(
            "Checksum algorithm provided is unsupported. Please try again with any of the "
            f"valid types: [{', '.join(checksums.ALGORITHMS)}]"
        )
    if checksum_type and checksum_type not in ("COMPOSITE", "FULL_OBJECT"):
        raise invalid_request("Value for x-amz-checksum-type header is invalid.")
    if checksum_type and not algorithm:
        raise invalid_request(
            "The x-amz-checksum-type header can only be used with the "
            "x-amz-checksum-algorithm header."
        )
    if not algorithm:
        return "", ""
    if not checksum_type:
        checksum_type = "FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE"
    if (checksum_type == "COMPOSITE" and algorithm == "CRC64NVME") or (
        checksum_type == "FULL_OBJECT" and algorithm in _COMPOSITE_ONLY
    ):
        raise invalid_request(
            f"The {checksum_type} checksum type cannot be used with the "
            f"{algorithm.lower()} checksum algorithm."
        )
    return algorithm, checksum_type


async def create_multipart_upload(
    services: Services, bucket: str, key: str, headers: dict[str, str]
) -> Answer:
    algorithm, checksum_type = _upload_checksum(headers)
    upload_id = await _run(services.blobs.create_upload, bucket, key, algorithm, checksum_type)
    xml = (
        f'<InitiateMultipartUploadResult xmlns="{NS}"><Bucket>{escape(bucket)}</Bucket>'
        f"<Key>{escape(key)}</Key><UploadId>{escape(upload_id)}</UploadId>"
        "</InitiateMultipartUploadResult>"
    )
    out: Headers = [XML_TYPE]
    if algorithm:
        out += [
            (b"x-amz-checksum-algorithm", algorithm.encode()),
            (b"x-amz-checksum-type", checksum_type.encode()),
        ]
    return 200, out, _xml(xml)


def _part_number(params: dict[str, str]) -> int:
    text = params.get("partNumber", "")
    if not text.isdigit() or not 1 <= int(text) <= MAX_PARTS:
        raise invalid_argument(
            f"Part number must be an integer between 1 and {MAX_PARTS}, inclusive"
        )
    return int(text)


async def upload_part(
    services: Services,
    bucket: str,
    key: str,
    params: dict[str, str],
    headers: dict[str, str],
    signed: SignedRequest,
    receive: Receive,
) -> Answer:
    store = services.blobs
    number = _part_number(params)
    upload = await _run(store.upload, bucket, key, params["uploadId"])
    limit = services.settings.max_object_bytes
    others = sum(p.size for p in await _run(store.parts, upload) if p.number != number)
    body = await read_body(
        receive, headers, signed, store, max(limit - others, 0), upload.checksum_algorithm
    )
    try:
        etag = await _run(
            store.put_part, upload, number, body.path, etag=body.md5, checksum=body.checksum
        )
    finally:
        body.path.unlink(missing_ok=True)
    return (
        200,
        [
            (b"etag", f'"{etag}"'.encode()),
            *_checksum_headers(body.checksum_algorithm, body.checksum),
        ],
        b"",
    )


@dataclass(frozen=True)
class _Listed:
    """A part as CompleteMultipartUpload lists it."""

    number: int
    etag: str
    checksum: str | None


def _listed_parts(body: bytes, algorithm: str) -> list[_Listed]:
    root = _parse_xml(body, "CompleteMultipartUpload")
    member = f"Checksum{algorithm}" if algorithm else ""
    listed = []
    for element in _children(root, "Part"):
        number = _text(element, "PartNumber") or ""
        if not number.isdigit():
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema: each Part needs a PartNumber.",
            )
        etag = (_text(element, "ETag") or "").strip('"')
        checksum = _text(element, member) if member else None
        listed.append(_Listed(int(number), etag, checksum))
    if not listed:
        raise invalid_request("You must specify at least one part")
    return listed


def _invalid_part(detail: str = "") -> S3Error:
    return S3Error(
        "InvalidPart",
        "One or more of the specified parts could not be found. The part may not have been "
        "uploaded, or the specified entity tag may not match the part's entity tag."
        + (f" {detail}" if detail else ""),
    )


def _chosen_parts(listed: list[_Listed], stored: list[PartInfo], limit: int) -> list[PartInfo]:
    """The stored parts the client's list names, checked as S3 checks them."""
    numbers = [part.number for part in listed]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise S3Error(
            "InvalidPartOrder",
            "The list of parts was not in ascending order. The parts list must be specified "
            "in order by part number.",
        )
    by_number = {part.number: part for part in stored}
    chosen = []
    for item in listed:
        part = by_number.get(item.number)
        if part is None or part.etag != item.etag:
            raise _invalid_part(f'Part {item.number} with ETag "{item.etag}" was not uploaded.')
        if item.checksum and item.checksum != part.checksum:
            raise _invalid_part(
                f"Part {item.number}'s checksum is {part.checksum or 'none'}, not {item.checksum}."
            )
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_BYTES:
            raise S3Error(
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size: part "
                f"{part.number} is {part.size} bytes; every part but the last must be at "
                f"least {MIN_PART_BYTES} (5 MiB).",
            )
    total = sum(part.size for part in chosen)
    if total > limit:
        raise _entity_too_large(total, limit)
    return chosen


def multipart_etag(parts: list[PartInfo]) -> str:
    """S3's ETag of a multipart object: the MD5 of the parts' MD5s, then ``-<parts>``."""
    digest = hashlib.md5(b"".join(bytes.fromhex(part.etag) for part in parts))
    return f"{digest.hexdigest()}-{len(parts)}"


async def complete_multipart_upload(
    services: Services,
    bucket: str,
    key: str,
    upload_id: str,
    headers: dict[str, str],
    body: bytes,
) -> Answer:
    store = services.blobs
    upload = await _run(store.upload, bucket, key, upload_id)
    algorithm = upload.checksum_algorithm
    listed = _listed_parts(body, algorithm)
    stored = await _run(store.parts, upload)
    chosen = _chosen_parts(listed, stored, services.settings.max_object_bytes)
    whole_claimed = ""
    if algorithm and upload.checksum_type == "FULL_OBJECT":
        given = headers.get(checksums.header(algorithm))
        if given is not None:
            if checksums.decode(algorithm, given) is None:
                raise invalid_request(f"Value for {checksums.header(algorithm)} header is invalid.")
            whole_claimed = given.strip()
    try:
        etag, whole = await _run(
            store.complete_upload,
            upload,
            chosen,
            etag=multipart_etag(chosen),
            checksum=whole_claimed,
        )
    except ChecksumMismatch as exc:
        raise S3Error("BadDigest", str(exc)) from None
    except PartChanged:
        raise _invalid_part("A part was uploaded again while the upload completed.") from None
    checksum_xml = ""
    if algorithm:
        if upload.checksum_type == "FULL_OBJECT":
            value = whole
        else:
            digests = [checksums.decode(algorithm, part.checksum) for part in chosen]
            value = (
                checksums.composite(algorithm, [d for d in digests if d is not None])
                if all(digests)
                else ""
            )
        if value:
            checksum_xml = (
                f"<Checksum{algorithm}>{value}</Checksum{algorithm}>"
                f"<ChecksumType>{upload.checksum_type}</ChecksumType>"
            )
    location = f"{services.settings.effective_public_url}/{bucket}/{quote(key)}"
    xml = (
        f'<CompleteMultipartUploadResult xmlns="{NS}"><Location>{escape(location)}</Location>'
        f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>"
        f'<ETag>"{escape(etag)}"</ETag>{checksum_xml}</CompleteMultipartUploadResult>'
    )
    return 200, [XML_TYPE], _xml(xml)


async def abort_multipart_upload(
    services: Services, bucket: str, key: str, upload_id: str
) -> Answer:
    store = services.blobs
    upload = await _run(store.upload, bucket, key, upload_id)
    await _run(store.abort_upload, upload)
    return 204, [], b""


async def list_parts(services: Services, bucket: str, key: str, params: dict[str, str]) -> Answer:
    store = services.blobs
    upload = await _run(store.upload, bucket, key, params["uploadId"])
    try:
        max_parts = int(params.get("max-parts", "1000"))
        marker = int(params.get("part-number-marker", "0") or "0")
    except ValueError:
        raise invalid_argument("max-parts and part-number-marker must be integers.") from None
    if not 0 <= max_parts <= 1000:
        raise invalid_argument("max-parts must be between 0 and 1000.")
    after = [part for part in await _run(store.parts, upload) if part.number > marker]
    shown, truncated = after[:max_parts], len(after) > max_parts
    algorithm = upload.checksum_algorithm
    items = []
    for part in shown:
        checksum = (
            f"<Checksum{algorithm}>{part.checksum}</Checksum{algorithm}>"
            if algorithm and part.checksum
            else ""
        )
        items.append(
            f"<Part><PartNumber>{part.number}</PartNumber>"
            f"<LastModified>{s3.iso_time(part.last_modified)}</LastModified>"
            f'<ETag>"{part.etag}"</ETag><Size>{part.size}</Size>{checksum}</Part>'
        )
    next_marker = shown[-1].number if shown else marker
    xml = (
        f'<ListPartsResult xmlns="{NS}"><Bucket>{escape(bucket)}</Bucket>'
        f"<Key>{escape(key)}</Key><UploadId>{escape(upload.upload_id)}</UploadId>"
        f"<PartNumberMarker>{marker}</PartNumberMarker>"
        f"<NextPartNumberMarker>{next_marker}</NextPartNumberMarker>"
        f"<MaxParts>{max_parts}</MaxParts>"
        f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
        + "".join(items)
        + "<StorageClass>STANDARD</StorageClass>"
        + (
            f"<ChecksumAlgorithm>{algorithm}</ChecksumAlgorithm>"
            f"<ChecksumType>{upload.checksum_type}</ChecksumType>"
            if algorithm
            else ""
        )
        + "</ListPartsResult>"
    )
    return 200, [XML_TYPE], _xml(xml)


# -- routing ------------------------------------------------------------------------------------


def _subresources(params: dict[str, str]) -> list[str]:
    """The query's parameters that name an S3 sub-resource (``?acl``, ``?tagging``, …):
    neither a pre-signed URL's ``X-Amz-*`` nor one the operation takes."""
    return [
        name for name in params if not name.startswith("X-Amz-") and name not in _NOT_SUBRESOURCES
    ]


async def handle(
    services: Services,
    scope: Scope,
    headers: dict[str, str],
    body: bytes,
    signed: SignedRequest,
    receive: Receive,
) -> Answer:
    """Answer one S3 request: (status, headers, body). ``body`` is the request's body,
    except for a PUT, whose body is read from ``receive`` here."""
    method: str = scope["method"]
    raw_path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    raw_path = raw_path.split("?", 1)[0]
    query = scope["query_string"].decode("latin-1")
    path = decode(raw_path, "The request path", s3_code="InvalidURI").lstrip("/")
    bucket, _, key = path.partition("/")
    params = parse_form(query, "the query")
    sub = sorted(_subresources(params))
    if method == "GET" and key and "uploadId" in params:
        s3_names.check_bucket(bucket)
        return await list_parts(services, bucket, writable_key(key), params)
    if method == "HEAD" and bucket and not key:
        s3_names.check_bucket(bucket)
        return await head_bucket(services, bucket)
    if method in ("GET", "HEAD"):
        return await asyncio.to_thread(
            s3.handle, services.blobs, method, raw_path, query, headers.get("range")
        )
    if method not in ("PUT", "POST", "DELETE"):
        raise s3.MethodNotAllowed(f"The {method} method is not allowed against this resource.")
    if not bucket:
        raise s3.MethodNotAllowed("ListBuckets and other calls on / are not supported.")
    s3_names.check_bucket(bucket)
    named = f" with ?{', ?'.join(sub)}" if sub else ""
    if not key:
        if method == "PUT" and not sub:
            return await create_bucket(services, bucket, receive)
        raise not_implemented(f"{method} on a bucket{named}")
    writable_key(key)
    if "x-amz-copy-source" in headers:
        raise not_implemented("Copying (CopyObject, UploadPartCopy)")
    if any(name.startswith("x-amz-server-side-encryption") for name in headers):
        # Refused rather than ignored: the object would be stored in the clear.
        raise not_implemented("Server-side encryption (x-amz-server-side-encryption*)")
    if method == "POST":
        if sub == ["uploads"]:
            return await create_multipart_upload(services, bucket, key, headers)
        if sub == ["uploadId"]:
            return await complete_multipart_upload(
                services, bucket, key, params["uploadId"], headers, body
            )
    elif method == "PUT":
        if "if-match" in headers or "if-none-match" in headers:
            raise not_implemented("A conditional write (If-Match, If-None-Match)")
        if sub == ["partNumber", "uploadId"]:
            return await upload_part(services, bucket, key, params, headers, signed, receive)
        if not sub:
            return await put_object(services, bucket, key, headers, signed, receive)
    else:
        if sub == ["uploadId"]:
            return await abort_multipart_upload(services, bucket, key, params["uploadId"])
        if not sub:
            return await delete_object(services, bucket, key)
    raise not_implemented(f"{method} on an object{named}")
