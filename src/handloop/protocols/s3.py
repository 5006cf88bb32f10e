"""The S3 API's reads (REST-XML, path-style) over the output store, so that
``boto3.client("s3").get_object(Bucket=..., Key=...)`` reads outputs as it would on AWS:
GetObject, HeadObject and ListObjectsV2. Writes, and the routing of every S3 request, are
in ``s3_writes``.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any
from xml.sax.saxutils import escape

from handloop.blobs import BlobInfo, BlobNotFound, BlobStore, BucketNotFound
from handloop.domain import json_values, s3_names
from handloop.errors import HandloopError, ValidationError
from handloop.protocols.request_text import decode, parse_form

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
# Every S3 operation handloop answers (the writes in s3_writes).
OPERATIONS = (
    "GetObject",
    "HeadObject",
    "ListObjectsV2",
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListParts",
    "DeleteObject",
    "CreateBucket",
    "HeadBucket",
)


class NoSuchKey(HandloopError):
    code = "NoSuchKey"
    status = 404


class NoSuchBucket(HandloopError):
    code = "NoSuchBucket"
    status = 404


class InvalidRange(HandloopError):
    code = "InvalidRange"
    status = 416

    def __init__(self, size: int) -> None:
        super().__init__(f"The requested range is not satisfiable (the object has {size} bytes).")


class MethodNotAllowed(HandloopError):
    code = "MethodNotAllowed"
    status = 405


class InvalidArgument(ValidationError):
    code = "InvalidArgument"
    status = 400

    def code_for(self, service: str) -> tuple[str, int]:
        return self.code, self.status


def _object_headers(info: BlobInfo) -> list[tuple[bytes, bytes]]:
    content_type = mimetypes.guess_type(info.key)[0] or "application/octet-stream"
    return [
        (b"content-type", content_type.encode()),
        (b"etag", f'"{info.etag}"'.encode()),
        (b"last-modified", formatdate(info.last_modified, usegmt=True).encode()),
        (b"accept-ranges", b"bytes"),
    ]


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def encode_continuation_token(bucket: str, prefix: str, after: str) -> str:
    raw = json_values.dumps({"b": bucket, "p": prefix, "after": after})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_continuation_token(token: str, bucket: str, prefix: str) -> str:
    """The key a ListObjectsV2 continuation token resumes after; InvalidArgument for a token
    handloop did not give for this bucket and prefix."""
    incorrect = InvalidArgument("The continuation token provided is incorrect.")
    try:
        data: Any = json_values.parse(base64.urlsafe_b64decode(token), "The token", max_depth=1)
    except (ValueError, ValidationError):  # binascii.Error is a ValueError
        raise incorrect from None
    if not (
        isinstance(data, dict)
        and data.get("b") == bucket
        and data.get("p") == prefix
        and isinstance(data.get("after"), str)
    ):
        raise incorrect
    after: str = data["after"]
    return after


def _list_xml(bucket: str, params: dict[str, str], store: BlobStore) -> bytes:
    try:
        max_keys = int(params.get("max-keys", "1000"))
    except ValueError:
        raise InvalidArgument("max-keys must be an integer.") from None
    if not 0 <= max_keys <= 1000:
        raise InvalidArgument("max-keys must be between 0 and 1000.")
    prefix = params.get("prefix", "")
    token = params.get("continuation-token")
    start_after = params.get("start-after", "")
    if token:
        start_after = decode_continuation_token(token, bucket, prefix)
    delimiter = params.get("delimiter", "")
    try:
        found = (
            store.list_objects(
                bucket, prefix=prefix, start_after=start_after, max_keys=max_keys + 1
            )
            if max_keys
            else []
        )
    except BucketNotFound:
        raise NoSuchBucket("The specified bucket does not exist.") from None
    truncated = len(found) > max_keys
    found = found[:max_keys]
    contents: list[str] = []
    common: list[str] = []
    for info in found:
        rest = info.key[len(prefix) :]
        if delimiter and delimiter in rest:
            folder = prefix + rest.split(delimiter, 1)[0] + delimiter
            if folder not in common:
                common.append(folder)
            continue
        contents.append(
            f"<Contents><Key>{escape(info.key)}</Key><LastModified>{iso_time(info.last_modified)}</LastModified>"
            f'<ETag>"{info.etag}"</ETag><Size>{info.size}</Size><StorageClass>STANDARD</StorageClass></Contents>'
        )
    parts = [
        f'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="{NS}">',
        f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>",
        f"<KeyCount>{len(contents) + len(common)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>",
        f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>",
        *contents,
        *(f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in common),
    ]
    if delimiter:
        parts.append(f"<Delimiter>{escape(delimiter)}</Delimiter>")
    if token:
        parts.append(f"<ContinuationToken>{escape(token)}</ContinuationToken>")
    if params.get("start-after"):
        parts.append(f"<StartAfter>{escape(params['start-after'])}</StartAfter>")
    if truncated and found:
        next_token = encode_continuation_token(bucket, prefix, found[-1].key)
        parts.append(f"<NextContinuationToken>{next_token}</NextContinuationToken>")
    parts.append("</ListBucketResult>")
    return "".join(parts).encode()


def handle(
    store: BlobStore, method: str, raw_path: str, query: str, range_header: str | None = None
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Answer one S3 read: (status, headers, body); ``range_header`` is the request's
    ``Range``, if any."""
    path = decode(raw_path, "The request path", s3_code="InvalidURI").lstrip("/")
    bucket, _, key = path.partition("/")
    params = parse_form(query, "the query")
    if method not in ("GET", "HEAD"):
        raise MethodNotAllowed(
            "handloop's S3 API is read-only: GetObject, HeadObject, ListObjectsV2."
        )
    if not bucket:
        raise MethodNotAllowed("ListBuckets is not supported; name a bucket.")
    s3_names.check_bucket(bucket)
    if not key:
        if params.get("list-type") != "2":
            raise MethodNotAllowed("Only ListObjectsV2 (list-type=2) lists a bucket here.")
        return 200, [(b"content-type", b"application/xml")], _list_xml(bucket, params, store)
    s3_names.check_key(key)
    status = 200
    try:
        info = store.head(bucket, key)
        headers = _object_headers(info)
        wanted = _range(range_header, info.size) if method == "GET" and range_header else None
        if method == "HEAD":
            body = b""
            headers.append((b"content-length", str(info.size).encode()))
        elif wanted is not None:
            first, last = wanted
            body = store.get_range(bucket, key, first, last)
            status = 206
            headers.append((b"content-range", f"bytes {first}-{last}/{info.size}".encode()))
        else:
            body = store.get(bucket, key)
    except BucketNotFound:
        raise NoSuchBucket("The specified bucket does not exist.") from None
    except (BlobNotFound, ValueError):
        raise NoSuchKey("The specified key does not exist.") from None
    return status, headers, body


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _range(header: str, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for; None for a header S3 ignores
    (malformed, or several ranges: the whole object is sent); InvalidRange for a range
    outside the object. boto3's download_file fetches large objects so, a part at a time."""
    match = _RANGE.match(header.strip())
    if match is None or match[1] == match[2] == "":
        return None
    if match[1] == "":  # the last N bytes
        count = int(match[2])
        if count == 0 or size == 0:
            raise InvalidRange(size)
        return max(size - count, 0), size - 1
    first = int(match[1])
    last = int(match[2]) if match[2] else size - 1
    if last < first:
        return None
    if first >= size:
        raise InvalidRange(size)
    return first, min(last, size - 1)
