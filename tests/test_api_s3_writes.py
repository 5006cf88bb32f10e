"""S3 writes through boto3 as it is (PutObject with every checksum it offers, upload_file
with and without multipart, the multipart calls, DeleteObject, CreateBucket, HeadBucket),
over HTTP and, behind a TLS front, HTTPS (where botocore sends aws-chunked bodies with a
checksum trailer); raw requests for what boto3 does not send (wrong checksums, corrupted,
truncated and signed-chunk bodies); keys that would escape the store; the size cap; and the
S3-compatible output store passing writes on."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from handloop.blobs import LocalBlobStore
from tests.s3_support import (
    TlsFront,
    chunked,
    crc32,
    make_certificate,
    s3_error,
    signed_chunks,
    signed_put,
    signing_key,
)
from tests.support import LiveServer, error_of, signed_call

BUCKET = "writes-bucket"
MIB = 1024 * 1024
BIG = os.urandom(20 * MIB)
HASHES: dict[str, Callable[[bytes], bytes]] = {
    "CRC32": lambda data: (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big"),
    "SHA1": lambda data: hashlib.sha1(data).digest(),
    "SHA256": lambda data: hashlib.sha256(data).digest(),
    "SHA512": lambda data: hashlib.sha512(data).digest(),
}


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def multipart_etag(data: bytes, part_size: int) -> str:
    parts = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    digest = hashlib.md5(b"".join(hashlib.md5(part).digest() for part in parts)).hexdigest()
    return f'"{digest}-{len(parts)}"'


@pytest.fixture(scope="module")
def s3(server: LiveServer) -> Any:
    return server.client("s3")


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("upload") / "big.bin"
    path.write_bytes(BIG)
    return path


def store_files(server: LiveServer, folder: str) -> list[str]:
    root = server.data_dir / "s3" / folder
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) if root.exists() else []


# -- PutObject --------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [None, *HASHES])
def test_put_object_with_each_checksum(s3: Any, algorithm: str | None) -> None:
    data = b"a line of evaluation data\n" * 1000
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    response = s3.put_object(Bucket=BUCKET, Key=f"put/{algorithm}.txt", Body=data, **extra)
    assert response["ETag"] == f'"{md5(data)}"'
    # botocore (1.36+) adds a CRC32 when none is asked for; S3 answers with the checksum.
    expected = algorithm or "CRC32"
    assert response[f"Checksum{expected}"] == b64(HASHES[expected](data))
    assert response["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket=BUCKET, Key=f"put/{algorithm}.txt")
    assert got["Body"].read() == data
    assert got["ETag"] == response["ETag"]


def test_put_object_replaces_and_keeps_keys_apart(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="replace/x y+z ü.json", Body=b'{"v": 1}')
    s3.put_object(Bucket=BUCKET, Key="replace/x y+z ü.json", Body=b'{"v": 2}')
    got = s3.get_object(Bucket=BUCKET, Key="replace/x y+z ü.json")
    assert json.loads(got["Body"].read()) == {"v": 2}
    assert got["ContentType"] == "application/json"
    empty = s3.put_object(Bucket=BUCKET, Key="replace/empty", Body=b"")
    assert empty["ETag"] == f'"{md5(b"")}"'
    assert s3.head_object(Bucket=BUCKET, Key="replace/empty")["ContentLength"] == 0


def test_upload_file_in_one_put(s3: Any, big_file: Path) -> None:
    config = TransferConfig(multipart_threshold=64 * MIB)
    s3.upload_file(str(big_file), BUCKET, "big/single.bin", Config=config)
    head = s3.head_object(Bucket=BUCKET, Key="big/single.bin")
    assert head["ETag"] == f'"{md5(BIG)}"' and head["ContentLength"] == len(BIG)
    assert s3.get_object(Bucket=BUCKET, Key="big/single.bin")["Body"].read() == BIG


def test_upload_file_in_parts(server: LiveServer, s3: Any, big_file: Path) -> None:
    s3.upload_file(str(big_file), BUCKET, "big/multi.bin")  # 8 MiB parts by default
    head = s3.head_object(Bucket=BUCKET, Key="big/multi.bin")
    assert head["ETag"] == multipart_etag(BIG, 8 * MIB)
    assert head["ContentLength"] == len(BIG)
    assert s3.get_object(Bucket=BUCKET, Key="big/multi.bin")["Body"].read() == BIG
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="big/multi")["Contents"]
    assert [(o["Key"], o["ETag"]) for o in listed] == [("big/multi.bin", head["ETag"])]
    assert store_files(server, ".uploads") == [] and store_files(server, ".staging") == []


def test_presigned_put(server: LiveServer) -> None:
    """A pre-signed PUT URL leaves the body unsigned; its checksum header, if any, holds."""
    client = server.client("s3", signature_version="s3v4")
    url = client.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": "presigned.txt"}, ExpiresIn=300
    )
    assert httpx.put(url, content=b"sent by URL").status_code == 200
    got = client.get_object(Bucket=BUCKET, Key="presigned.txt")["Body"].read()
    assert got == b"sent by URL"
    refused = httpx.put(url, content=b"other", headers={"x-amz-checksum-crc32": crc32(b"x")})
    assert s3_error(refused) == (400, "BadDigest")


def test_download_file_reads_in_ranges(s3: Any, big_file: Path, tmp_path: Path) -> None:
    """boto3's download_file fetches a large object 8 MiB at a time (Range requests)."""
    s3.upload_file(str(big_file), BUCKET, "big/download.bin")
    s3.download_file(BUCKET, "big/download.bin", str(tmp_path / "copy.bin"))
    assert (tmp_path / "copy.bin").read_bytes() == BIG


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (206, b"0123456789", "bytes 0-9/36")),
        ("bytes=30-", (206, b"uvwxyz", "bytes 30-35/36")),
        ("bytes=-4", (206, b"wxyz", "bytes 32-35/36")),
        ("bytes=30-99", (206, b"uvwxyz", "bytes 30-35/36")),
        ("bytes=0-1,4-5", (200, b"0123456789abcdefghijklmnopqrstuvwxyz", None)),
        ("nonsense", (200, b"0123456789abcdefghijklmnopqrstuvwxyz", None)),
    ],
)
def test_ranges(s3: Any, header: str, expected: tuple[int, bytes, str | None]) -> None:
    s3.put_object(Bucket=BUCKET, Key="ranges.txt", Body=b"0123456789abcdefghijklmnopqrstuvwxyz")
    got = s3.get_object(Bucket=BUCKET, Key="ranges.txt", Range=header)
    status = got["ResponseMetadata"]["HTTPStatusCode"]
    assert (status, got["Body"].read(), got.get("ContentRange")) == expected


def test_range_outside_the_object(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="ranges.txt", Body=b"short")
    call = lambda: s3.get_object(Bucket=BUCKET, Key="ranges.txt", Range="bytes=10-20")  # noqa: E731
    assert error_of(call)[:2] == ("InvalidRange", 416)


# -- multipart uploads --------------------------------------------------------------------------


def test_multipart_calls_with_a_composite_checksum(s3: Any) -> None:
    key = "multi/composite.bin"
    parts_data = [os.urandom(5 * MIB), os.urandom(1234)]
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm="SHA256")
    assert upload["ChecksumAlgorithm"] == "SHA256"
    upload_id = upload["UploadId"]
    parts = []
    for number, data in enumerate(parts_data, start=1):
        answer = s3.upload_part(
            Bucket=BUCKET,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm="SHA256",
        )
        assert answer["ETag"] == f'"{md5(data)}"'
        assert answer["ChecksumSHA256"] == b64(hashlib.sha256(data).digest())
        parts.append(
            {
                "PartNumber": number,
                "ETag": answer["ETag"],
                "ChecksumSHA256": answer["ChecksumSHA256"],
            }
        )
    listed = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id, MaxParts=1)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1] and listed["IsTruncated"]
    rest = s3.list_parts(
        Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumberMarker=listed["NextPartNumberMarker"]
    )
    assert [(p["PartNumber"], p["Size"]) for p in rest["Parts"]] == [(2, 1234)]
    done = s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
    )
    whole = b"".join(parts_data)
    assert done["ETag"] == multipart_etag(whole, 5 * MIB)
    composite = hashlib.sha256(b"".join(hashlib.sha256(d).digest() for d in parts_data))
    assert done["ChecksumSHA256"] == f"{b64(composite.digest())}-2"
    assert done["ChecksumType"] == "COMPOSITE"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == whole
    # Completed: the upload is gone.
    assert error_of(lambda: s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id))[:2] == (
        "NoSuchUpload",
        404,
    )


def test_multipart_full_object_checksum(s3: Any) -> None:
    key = "multi/full.bin"
    data = os.urandom(6 * MIB)
    upload_id = s3.create_multipart_upload(
        Bucket=BUCKET, Key=key, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )["UploadId"]
    parts = []
    for number, piece in enumerate([data[: 5 * MIB], data[5 * MIB :]], start=1):
        answer = s3.upload_part(
            Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=piece
        )
        assert answer["ChecksumCRC32"] == crc32(piece)
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def complete(checksum: str) -> Any:
        return s3.complete_multipart_upload(
            Bucket=BUCKET,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
            ChecksumCRC32=checksum,
            ChecksumType="FULL_OBJECT",
        )

    assert error_of(lambda: complete(crc32(b"other")))[:2] == ("BadDigest", 400)
    assert error_of(lambda: s3.head_object(Bucket=BUCKET, Key=key))[:2] == ("404", 404)
    done = complete(crc32(data))  # the upload survived the refused completion
    assert done["ChecksumCRC32"] == crc32(data) and done["ChecksumType"] == "FULL_OBJECT"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data


def test_abort_leaves_nothing(server: LiveServer, s3: Any) -> None:
    key = "multi/aborted.bin"
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x" * MIB)
    assert store_files(server, ".uploads") != []
    answer = s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert store_files(server, ".uploads") == [] and store_files(server, ".staging") == []
    assert error_of(lambda: s3.head_object(Bucket=BUCKET, Key=key))[:2] == ("404", 404)
    assert error_of(lambda: s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id))[
        :2
    ] == ("NoSuchUpload", 404)


@pytest.fixture
def two_parts(s3: Any) -> tuple[str, str, list[dict[str, Any]]]:
    """An upload of two small parts (each test completes it with the first alone)."""
    key = "multi/errors.bin"
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    parts = [
        {
            "PartNumber": number,
            "ETag": s3.upload_part(
                Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=b"p" * 100
            )["ETag"],
        }
        for number in (1, 2)
    ]
    return key, upload_id, parts


@pytest.mark.parametrize(
    ("case", "parts", "expected"),
    [
        ("parts too small", lambda p: p, ("EntityTooSmall", 400)),
        ("out of order", lambda p: p[::-1], ("InvalidPartOrder", 400)),
        ("wrong etag", lambda p: [{**p[0], "ETag": '"00"'}], ("InvalidPart", 400)),
        ("unknown part", lambda p: [{**p[0], "PartNumber": 9}], ("InvalidPart", 400)),
        ("no parts", lambda p: [], ("InvalidRequest", 400)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_complete_refusals(
    s3: Any,
    two_parts: tuple[str, str, list[dict[str, Any]]],
    case: str,
    parts: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    expected: tuple[str, int],
) -> None:
    key, upload_id, listed = two_parts
    call = lambda: s3.complete_multipart_upload(  # noqa: E731
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts(listed)}
    )
    assert error_of(call)[:2] == expected
    # A single small part makes an object: the upload was left as it was.
    assert s3.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed[:1]}
    )["ETag"] == multipart_etag(b"p" * 100, 100)
    s3.delete_object(Bucket=BUCKET, Key=key)


@pytest.mark.parametrize(
    ("case", "call", "expected"),
    [
        (
            "unknown upload",
            lambda s3: s3.upload_part(
                Bucket=BUCKET, Key="k", UploadId="0" * 48, PartNumber=1, Body=b"x"
            ),
            ("NoSuchUpload", 404),
        ),
        (
            "upload id as a path",
            lambda s3: s3.list_parts(Bucket=BUCKET, Key="k", UploadId="../../writes-bucket"),
            ("NoSuchUpload", 404),
        ),
        (
            "part number 0",
            lambda s3: s3.upload_part(
                Bucket=BUCKET, Key="k", UploadId="0" * 48, PartNumber=0, Body=b"x"
            ),
            ("InvalidArgument", 400),
        ),
        (
            "part number over 10,000",
            lambda s3: s3.upload_part(
                Bucket=BUCKET, Key="k", UploadId="0" * 48, PartNumber=10001, Body=b"x"
            ),
            ("InvalidArgument", 400),
        ),
        (
            "COMPOSITE CRC64NVME",
            lambda s3: s3.create_multipart_upload(
                Bucket=BUCKET, Key="k", ChecksumAlgorithm="CRC64NVME", ChecksumType="COMPOSITE"
            ),
            ("InvalidRequest", 400),
        ),
        (
            "FULL_OBJECT SHA256",
            lambda s3: s3.create_multipart_upload(
                Bucket=BUCKET, Key="k", ChecksumAlgorithm="SHA256", ChecksumType="FULL_OBJECT"
            ),
            ("InvalidRequest", 400),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_multipart_errors(
    s3: Any, case: str, call: Callable[[Any], Any], expected: tuple[str, int]
) -> None:
    assert error_of(lambda: call(s3))[:2] == expected


def test_part_checksum_must_be_the_uploads(s3: Any) -> None:
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="k", ChecksumAlgorithm="CRC32")[
        "UploadId"
    ]
    call = lambda: s3.upload_part(  # noqa: E731
        Bucket=BUCKET,
        Key="k",
        UploadId=upload_id,
        PartNumber=1,
        Body=b"x",
        ChecksumAlgorithm="SHA1",
    )
    assert error_of(call)[:2] == ("InvalidRequest", 400)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="k", UploadId=upload_id)


# -- DeleteObject, buckets, what is not implemented -------------------------------------------


def test_delete_object(server: LiveServer, s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="gone/deep/file.txt", Body=b"x")
    answer = s3.delete_object(Bucket=BUCKET, Key="gone/deep/file.txt")
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(lambda: s3.get_object(Bucket=BUCKET, Key="gone/deep/file.txt"))[:2] == (
        "NoSuchKey",
        404,
    )
    assert not (server.data_dir / "s3" / BUCKET / "gone").exists()  # no empty folders left
    # Deleting what is not there succeeds, as on S3; so an object may now be named "gone".
    assert s3.delete_object(Bucket=BUCKET, Key="gone/deep/file.txt")
    s3.put_object(Bucket=BUCKET, Key="gone", Body=b"y")
    assert s3.get_object(Bucket=BUCKET, Key="gone")["Body"].read() == b"y"


def test_create_and_head_bucket(s3: Any) -> None:
    assert error_of(lambda: s3.head_bucket(Bucket="made-later"))[:2] == ("404", 404)
    assert s3.create_bucket(Bucket="made-later")["Location"] == "/made-later"
    assert s3.head_bucket(Bucket="made-later")["BucketRegion"] == "us-east-1"
    # us-east-1 answers 200 again to the owner, as AWS does there.
    assert s3.create_bucket(Bucket="made-later")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.list_objects_v2(Bucket="made-later")["KeyCount"] == 0
    elsewhere = {"LocationConstraint": "eu-west-1"}
    assert error_of(
        lambda: s3.create_bucket(Bucket="made-elsewhere", CreateBucketConfiguration=elsewhere)
    )[:2] == ("IllegalLocationConstraintException", 400)
    assert error_of(lambda: s3.create_bucket(Bucket="Not_Valid"))[:2] == (
        "InvalidBucketName",
        400,
    )
    # Writing to a bucket makes it, as outputs do.
    s3.put_object(Bucket="made-by-a-write", Key="k", Body=b"x")
    assert s3.head_bucket(Bucket="made-by-a-write")["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize(
    ("case", "call"),
    [
        (
            "copy",
            lambda s3: s3.copy_object(
                Bucket=BUCKET, Key="copy", CopySource={"Bucket": BUCKET, "Key": "put/None.txt"}
            ),
        ),
        ("object ACL", lambda s3: s3.put_object_acl(Bucket=BUCKET, Key="k", ACL="private")),
        ("bucket deletion", lambda s3: s3.delete_bucket(Bucket="made-later")),
        (
            "server-side encryption",
            lambda s3: s3.put_object(
                Bucket=BUCKET, Key="k", Body=b"x", ServerSideEncryption="aws:kms"
            ),
        ),
        (
            "conditional write",
            lambda s3: s3.put_object(Bucket=BUCKET, Key="k", Body=b"x", IfNoneMatch="*"),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_not_implemented(s3: Any, case: str, call: Callable[[Any], Any]) -> None:
    assert error_of(lambda: call(s3))[:2] == ("NotImplemented", 501)


# -- keys that would escape the store ----------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["../escape.txt", "a/../../escape.txt", "a//b", "/etc/passwd", "a/./b", "..\\escape.txt"],
)
def test_keys_that_escape_are_refused(server: LiveServer, s3: Any, key: str) -> None:
    code, status, message = error_of(lambda: s3.put_object(Bucket=BUCKET, Key=key, Body=b"x"))
    assert (code, status) == ("InvalidArgument", 400), message
    assert error_of(lambda: s3.create_multipart_upload(Bucket=BUCKET, Key=key))[:2] == (
        "InvalidArgument",
        400,
    )
    assert error_of(lambda: s3.delete_object(Bucket=BUCKET, Key=key))[:2] == (
        "InvalidArgument",
        400,
    )
    assert not (server.data_dir / "s3" / "escape.txt").exists()
    assert not (server.data_dir / "escape.txt").exists()


def test_a_key_cannot_be_an_object_and_a_folder(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="clash/a", Body=b"x")
    assert error_of(lambda: s3.put_object(Bucket=BUCKET, Key="clash/a/b", Body=b"y"))[:2] == (
        "InvalidArgument",
        400,
    )
    assert error_of(lambda: s3.put_object(Bucket=BUCKET, Key="clash", Body=b"y"))[:2] == (
        "InvalidArgument",
        400,
    )
    assert s3.get_object(Bucket=BUCKET, Key="clash/a")["Body"].read() == b"x"


# -- bodies boto3 does not send -------------------------------------------------------------


@pytest.fixture
def original(s3: Any) -> Iterator[str]:
    """A key holding b"original"; each refused write must leave it so."""
    key = "raw/original.txt"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"original")
    yield f"/{BUCKET}/{key}"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"original"


DATA = b"new content " * 10_000


@pytest.mark.parametrize(
    ("case", "body", "headers", "payload", "expected"),
    [
        (
            "wrong checksum header",
            DATA,
            {"x-amz-checksum-crc32": crc32(b"else")},
            None,
            (400, "BadDigest"),
        ),
        (
            "checksum header not base64",
            DATA,
            {"x-amz-checksum-sha256": "not base64!"},
            None,
            (400, "InvalidRequest"),
        ),
        (
            "two checksums",
            DATA,
            {"x-amz-checksum-crc32": crc32(DATA), "x-amz-checksum-sha1": "AAAA"},
            None,
            (400, "InvalidRequest"),
        ),
        (
            "algorithm header disagrees",
            DATA,
            {"x-amz-checksum-crc32": crc32(DATA), "x-amz-sdk-checksum-algorithm": "SHA1"},
            None,
            (400, "InvalidRequest"),
        ),
        (
            "wrong Content-MD5",
            DATA,
            {"Content-MD5": base64.b64encode(hashlib.md5(b"else").digest()).decode()},
            None,
            (400, "BadDigest"),
        ),
        ("bad Content-MD5", DATA, {"Content-MD5": "abc"}, None, (400, "InvalidDigest")),
        (
            "wrong trailer",
            chunked(DATA, trailer={"x-amz-checksum-crc32": crc32(b"else")}),
            {"x-amz-trailer": "x-amz-checksum-crc32"},
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            (400, "BadDigest"),
        ),
        (
            "corrupted chunk",
            chunked(DATA, trailer={"x-amz-checksum-crc32": crc32(DATA)}).replace(b"new", b"NEW", 1),
            {"x-amz-trailer": "x-amz-checksum-crc32"},
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            (400, "BadDigest"),
        ),
        (
            "trailer missing",
            chunked(DATA),
            {"x-amz-trailer": "x-amz-checksum-crc32"},
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            (400, "MalformedTrailerError"),
        ),
        (
            "truncated chunks",
            chunked(DATA, trailer={"x-amz-checksum-crc32": crc32(DATA)})[:50_000],
            {"x-amz-trailer": "x-amz-checksum-crc32"},
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            (400, "IncompleteBody"),
        ),
        (
            "decoded length wrong",
            chunked(DATA, trailer={"x-amz-checksum-crc32": crc32(DATA)}),
            {"x-amz-trailer": "x-amz-checksum-crc32", "x-amz-decoded-content-length": "5"},
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            (400, "IncompleteBody"),
        ),
        (
            "body not the signed one",
            DATA,
            {},
            hashlib.sha256(b"else").hexdigest(),
            (400, "XAmzContentSHA256Mismatch"),
        ),
        ("payload hash garbage", DATA, {}, "not-a-hash", (400, "InvalidArgument")),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)
def test_bad_bodies_are_refused(
    server: LiveServer,
    original: str,
    case: str,
    body: bytes,
    headers: dict[str, str],
    payload: str | None,
    expected: tuple[int, str],
) -> None:
    if payload is not None and payload.startswith("STREAMING-"):
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(DATA)),
            **headers,
        }
    response, _ = signed_put(server, original, body, headers, payload=payload)
    assert s3_error(response) == expected, response.text


def test_unsigned_and_streamed_bodies_are_accepted(server: LiveServer, s3: Any) -> None:
    path = f"/{BUCKET}/raw/accepted.txt"
    for body, headers, payload in [
        (DATA, {"x-amz-checksum-crc32": crc32(DATA)}, "UNSIGNED-PAYLOAD"),
        (
            chunked(DATA, trailer={"x-amz-checksum-crc32": crc32(DATA)}),
            {
                "Content-Encoding": "aws-chunked",
                "x-amz-trailer": "x-amz-checksum-crc32",
                "x-amz-decoded-content-length": str(len(DATA)),
            },
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        ),
        (chunked(DATA), {"Content-Encoding": "aws-chunked"}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    ]:
        response, _ = signed_put(server, path, body, headers, payload=payload)
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == f'"{md5(DATA)}"'
        got = s3.get_object(Bucket=BUCKET, Key="raw/accepted.txt")["Body"].read()
        assert got == DATA
        s3.delete_object(Bucket=BUCKET, Key="raw/accepted.txt")


@pytest.mark.parametrize("with_trailer", [False, True])
def test_signed_chunks(server: LiveServer, original: str, with_trailer: bool) -> None:
    payload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if with_trailer else "")
    trailer = {"x-amz-checksum-crc32": crc32(DATA)} if with_trailer else None
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(DATA)),
        **({"x-amz-trailer": "x-amz-checksum-crc32"} if with_trailer else {}),
    }
    # Sign the headers first (the seed signature), then the chunks from it.
    _, sent = signed_put(server, original, b"", headers, payload=payload)
    authorization = sent["Authorization"]
    seed = authorization.rsplit("Signature=", 1)[1]
    amz_date = sent["X-Amz-Date"]
    arguments = {
        "key": signing_key(server.default_key["SecretAccessKey"], amz_date[:8]),
        "amz_date": amz_date,
        "scope": f"{amz_date[:8]}/us-east-1/s3/aws4_request",
        "seed": seed,
        "size": 16 * 1024,
        "trailer": trailer,
    }
    good = signed_chunks(DATA, **arguments)  # type: ignore[arg-type]
    url = f"{server.url}{original}"
    forged = good.replace(b"new", b"NEW", 1)
    response = httpx.put(url, headers=sent, content=forged)
    assert s3_error(response) == (403, "SignatureDoesNotMatch")
    response = httpx.put(url, headers=sent, content=good)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{md5(DATA)}"'
    key = original.split("/", 2)[2]
    store = LocalBlobStore(server.data_dir / "s3")
    assert store.get(BUCKET, key) == DATA
    store.put(BUCKET, key, b"original")  # as the fixture expects it back


def test_signed_chunks_only_where_a_body_streams(server: LiveServer) -> None:
    """Only a PUT's body is read chunk by chunk, so only it may be of signed chunks."""
    response = signed_call(
        server,
        "POST",
        f"/{BUCKET}/k?uploads",
        headers={"X-Amz-Content-SHA256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
        service="s3",
    )
    assert s3_error(response) == (400, "InvalidArgument")


# -- HTTPS: aws-chunked bodies with checksum trailers, as botocore sends them there -----------


@pytest.fixture(scope="module")
def s3_https(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    cert, key = make_certificate(tmp_path_factory.mktemp("tls"))
    with TlsFront(server.port, cert, key) as front:
        access = server.default_key
        client = boto3.client(
            "s3",
            endpoint_url=f"https://127.0.0.1:{front.port}",
            region_name="us-east-1",
            aws_access_key_id=access["AccessKeyId"],
            aws_secret_access_key=access["SecretAccessKey"],
            verify=str(cert),
            config=Config(retries={"max_attempts": 1}),
        )
        yield client


def test_https_put_object_sends_a_trailer(s3_https: Any) -> None:
    sent: list[dict[str, str]] = []
    s3_https.meta.events.register(
        "before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers))
    )
    data = b"over TLS\n" * 5000
    for algorithm in HASHES:
        answer = s3_https.put_object(
            Bucket=BUCKET, Key=f"tls/{algorithm}", Body=data, ChecksumAlgorithm=algorithm
        )
        assert answer[f"Checksum{algorithm}"] == b64(HASHES[algorithm](data))
        assert s3_https.get_object(Bucket=BUCKET, Key=f"tls/{algorithm}")["Body"].read() == data
    assert sent[0]["X-Amz-Content-SHA256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert sent[0]["Content-Encoding"] == b"aws-chunked"
    assert sent[0]["X-Amz-Trailer"] == b"x-amz-checksum-crc32"


def test_https_upload_file_in_parts(s3_https: Any, big_file: Path) -> None:
    s3_https.upload_file(str(big_file), BUCKET, "tls/multi.bin")
    head = s3_https.head_object(Bucket=BUCKET, Key="tls/multi.bin")
    assert head["ETag"] == multipart_etag(BIG, 8 * MIB)
    assert s3_https.get_object(Bucket=BUCKET, Key="tls/multi.bin")["Body"].read() == BIG


# -- botocore[crt]: CRC32C, CRC64NVME and XXHash -------------------------------------------------

CRT_CLIENT = r"""
import json, os, sys
import boto3
from boto3.s3.transfer import TransferConfig
from botocore.compat import HAS_CRT
from botocore.config import Config
from botocore.httpchecksum import _CHECKSUM_CLS

url, key, secret, path = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id=key,
                  aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))
out = {"has_crt": HAS_CRT, "put": {}, "multipart": {}}
data = b"checksummed by the CRT\n" * 3000
for algorithm in ["CRC32C", "CRC64NVME", "XXHASH64", "XXHASH3", "XXHASH128"]:
    if algorithm.lower() not in _CHECKSUM_CLS:
        continue
    answer = s3.put_object(Bucket="writes-bucket", Key="crt/" + algorithm, Body=data,
                           ChecksumAlgorithm=algorithm)
    expected = _CHECKSUM_CLS[algorithm.lower()]().handle(data)
    body = s3.get_object(Bucket="writes-bucket", Key="crt/" + algorithm)["Body"].read()
    out["put"][algorithm] = [answer["Checksum" + algorithm], expected, body == data]
for algorithm in ["CRC64NVME", "CRC32C"]:
    s3.upload_file(path, "writes-bucket", "crt/multi-" + algorithm,
                   ExtraArgs={"ChecksumAlgorithm": algorithm},
                   Config=TransferConfig(multipart_chunksize=5 * 1024 * 1024))
    body = s3.get_object(Bucket="writes-bucket", Key="crt/multi-" + algorithm)["Body"].read()
    out["multipart"][algorithm] = body == open(path, "rb").read()
print(json.dumps(out))
"""


def test_botocore_crt_checksums(server: LiveServer, big_file: Path) -> None:
    """A boto3 with awscrt (``boto3[crt]``), in a process of its own: the tests' process
    keeps botocore without it (tests/__init__.py)."""
    key = server.default_key
    env = {**os.environ, "BOTO_DISABLE_CRT": "false"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CRT_CLIENT,
            server.url,
            key["AccessKeyId"],
            key["SecretAccessKey"],
            str(big_file),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["has_crt"]
    assert set(out["put"]) == {"CRC32C", "CRC64NVME", "XXHASH64", "XXHASH3", "XXHASH128"}
    for algorithm, (answered, expected, same) in out["put"].items():
        assert answered == expected and same, algorithm
    assert out["multipart"] == {"CRC64NVME": True, "CRC32C": True}


# -- the size cap ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped(
    database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server storing objects of 3 MiB at most, whose API bodies are capped at 1 MiB."""
    base = tmp_path_factory.mktemp("capped")
    env = {"HANDLOOP_MAX_OBJECT_BYTES": str(3 * MIB), "HANDLOOP_MAX_REQUEST_BYTES": str(MIB)}
    with LiveServer(data_dir=base / "data", database_url=database_url, extra_env=env) as live:
        yield live


def test_object_size_cap(capped: LiveServer) -> None:
    s3 = capped.client("s3")
    # Bodies of S3 writes are not API requests: HANDLOOP_MAX_REQUEST_BYTES is 1 MiB here.
    s3.put_object(Bucket=BUCKET, Key="fits", Body=b"f" * (2 * MIB))
    assert s3.head_object(Bucket=BUCKET, Key="fits")["ContentLength"] == 2 * MIB
    code, status, message = error_of(
        lambda: s3.put_object(Bucket=BUCKET, Key="too-big", Body=b"b" * (4 * MIB))
    )
    assert (code, status) == ("EntityTooLarge", 400)
    assert "HANDLOOP_MAX_OBJECT_BYTES" in message
    # A streamed body that declares no length is cut off where it passes the cap.
    body = chunked(b"c" * (4 * MIB))
    response, _ = signed_put(
        capped,
        f"/{BUCKET}/too-big",
        body,
        {"Content-Encoding": "aws-chunked"},
        payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    )
    assert s3_error(response) == (400, "EntityTooLarge")
    # The parts of an upload count together.
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="parts")["UploadId"]
    s3.upload_part(
        Bucket=BUCKET, Key="parts", UploadId=upload_id, PartNumber=1, Body=b"1" * (2 * MIB)
    )
    assert error_of(
        lambda: s3.upload_part(
            Bucket=BUCKET, Key="parts", UploadId=upload_id, PartNumber=2, Body=b"2" * (2 * MIB)
        )
    )[:2] == ("EntityTooLarge", 400)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="parts", UploadId=upload_id)
    assert error_of(lambda: s3.head_object(Bucket=BUCKET, Key="too-big"))[:2] == ("404", 404)
    assert store_files(capped, ".staging") == [] and store_files(capped, ".uploads") == []


# -- the S3-compatible output store passes writes on ---------------------------------------------


@pytest.fixture(scope="module")
def chained(
    server: LiveServer, database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A second server whose output store is the first one's S3 API."""
    key = server.default_key
    env = {
        "HANDLOOP_OUTPUT_STORE": "s3",
        "HANDLOOP_S3_ENDPOINT_URL": server.url,
        "HANDLOOP_S3_ACCESS_KEY_ID": key["AccessKeyId"],
        "HANDLOOP_S3_SECRET_ACCESS_KEY": key["SecretAccessKey"],
    }
    base = tmp_path_factory.mktemp("chained")
    # Its own database: the PostgreSQL one belongs to the first server.
    with LiveServer(data_dir=base / "data", extra_env=env) as live:
        yield live


def test_s3_output_store_passes_writes_on(
    server: LiveServer, chained: LiveServer, big_file: Path
) -> None:
    s3 = chained.client("s3")
    upstream = server.client("s3")
    answer = s3.put_object(
        Bucket=BUCKET, Key="chain/one.txt", Body=b"through", ChecksumAlgorithm="SHA1"
    )
    assert answer["ETag"] == f'"{md5(b"through")}"'
    assert upstream.get_object(Bucket=BUCKET, Key="chain/one.txt")["Body"].read() == b"through"
    s3.upload_file(str(big_file), BUCKET, "chain/multi.bin")
    head = upstream.head_object(Bucket=BUCKET, Key="chain/multi.bin")
    assert head["ETag"] == multipart_etag(BIG, 8 * MIB)
    assert s3.get_object(Bucket=BUCKET, Key="chain/multi.bin")["Body"].read() == BIG
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="chain/aborted")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="chain/aborted", UploadId=upload_id, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket=BUCKET, Key="chain/aborted", UploadId=upload_id)
    assert error_of(
        lambda: upstream.list_parts(Bucket=BUCKET, Key="chain/aborted", UploadId=upload_id)
    )[:2] == ("NoSuchUpload", 404)
    s3.delete_object(Bucket=BUCKET, Key="chain/one.txt")
    assert error_of(lambda: upstream.head_object(Bucket=BUCKET, Key="chain/one.txt"))[:2] == (
        "404",
        404,
    )
    assert error_of(lambda: s3.head_bucket(Bucket="chain-new"))[:2] == ("404", 404)
    s3.create_bucket(Bucket="chain-new")
    assert upstream.head_bucket(Bucket="chain-new")["ResponseMetadata"]["HTTPStatusCode"] == 200
    # The upstream's refusals come back as they are.
    parts_id = s3.create_multipart_upload(Bucket=BUCKET, Key="chain/small")["UploadId"]
    etags = [
        s3.upload_part(
            Bucket=BUCKET, Key="chain/small", UploadId=parts_id, PartNumber=n, Body=b"s"
        )["ETag"]
        for n in (1, 2)
    ]
    parts = [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags, strict=True)]
    assert error_of(
        lambda: s3.complete_multipart_upload(
            Bucket=BUCKET, Key="chain/small", UploadId=parts_id, MultipartUpload={"Parts": parts}
        )
    )[:2] == ("EntityTooSmall", 400)
    s3.abort_multipart_upload(Bucket=BUCKET, Key="chain/small", UploadId=parts_id)
