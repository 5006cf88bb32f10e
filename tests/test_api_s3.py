"""The S3 API's reads over the output store, through boto3's s3 client (its writes:
tests/test_api_s3_writes.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from handloop.blobs import BlobNotFound, LocalBlobStore, S3BlobStore
from tests.support import LiveServer, error_of

BUCKET = "review-bucket"
OBJECTS = {
    "results/flow-a/2026/01/02/03/04/05/loop-1/output.json": {"humanLoopName": "loop-1"},
    "results/flow-a/2026/01/02/03/04/06/loop-2/output.json": {"humanLoopName": "loop-2"},
    "results/flow-b/2026/01/02/03/04/07/loop-3/output.json": {"humanLoopName": "loop-3"},
    "results/readme.txt": "plain text",
    "other/x y+z.json": {"odd": "key"},
}


@pytest.fixture(scope="module")
def s3(server: LiveServer) -> Any:
    store = LocalBlobStore(server.data_dir / "s3")
    for key, value in OBJECTS.items():
        data = value.encode() if isinstance(value, str) else json.dumps(value).encode()
        store.put(BUCKET, key, data)
    return server.client("s3")


def test_get_object_reads_an_output(s3: Any) -> None:
    key = "results/flow-a/2026/01/02/03/04/05/loop-1/output.json"
    response = s3.get_object(Bucket=BUCKET, Key=key)
    assert json.loads(response["Body"].read()) == {"humanLoopName": "loop-1"}
    assert response["ContentType"] == "application/json"
    head = s3.head_object(Bucket=BUCKET, Key=key)
    assert head["ContentLength"] == len(json.dumps({"humanLoopName": "loop-1"}))
    assert head["ETag"] == response["ETag"]


def test_keys_with_spaces_and_plus_signs(s3: Any) -> None:
    assert json.loads(s3.get_object(Bucket=BUCKET, Key="other/x y+z.json")["Body"].read()) == {
        "odd": "key"
    }


def test_list_objects_v2_prefix_delimiter_and_paging(s3: Any) -> None:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="results/flow-a/")
    assert [o["Key"] for o in listed["Contents"]] == sorted(
        k for k in OBJECTS if k.startswith("results/flow-a/")
    )
    folders = s3.list_objects_v2(Bucket=BUCKET, Prefix="results/", Delimiter="/")
    assert [p["Prefix"] for p in folders["CommonPrefixes"]] == [
        "results/flow-a/",
        "results/flow-b/",
    ]
    assert [o["Key"] for o in folders["Contents"]] == ["results/readme.txt"]
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, PaginationConfig={"PageSize": 2}
    ):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    assert keys == sorted(OBJECTS)
    assert s3.list_objects_v2(Bucket="empty-bucket")["KeyCount"] == 0


@pytest.mark.parametrize(
    ("case", "call", "expected"),
    [
        (
            "missing key",
            lambda s3: s3.get_object(Bucket=BUCKET, Key="nope.json"),
            ("NoSuchKey", 404),
        ),
        (
            "missing key, HEAD",
            lambda s3: s3.head_object(Bucket=BUCKET, Key="nope.json"),
            ("404", 404),
        ),
        (
            "path escape",
            lambda s3: s3.get_object(Bucket=BUCKET, Key="../../deployment.key"),
            ("NoSuchKey", 404),
        ),
        (
            "copies not implemented",
            lambda s3: s3.copy_object(
                Bucket=BUCKET, Key="x", CopySource={"Bucket": BUCKET, "Key": "results/readme.txt"}
            ),
            ("NotImplemented", 501),
        ),
        (
            "bucket deletion not implemented",
            lambda s3: s3.delete_bucket(Bucket=BUCKET),
            ("NotImplemented", 501),
        ),
        (
            "ListBuckets refused",
            lambda s3: s3.list_buckets(),
            ("MethodNotAllowed", 405),
        ),
        (
            "bad page size",
            lambda s3: s3.list_objects_v2(Bucket=BUCKET, MaxKeys=5000),
            ("InvalidArgument", 400),
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_errors(s3: Any, case: str, call: Callable[[Any], Any], expected: tuple[str, int]) -> None:
    assert error_of(lambda: call(s3))[:2] == expected


def test_signature_is_checked(server: LiveServer) -> None:
    key = server.default_key
    client = server.client(
        "s3", {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": "wrong" * 8}
    )
    assert error_of(lambda: client.list_objects_v2(Bucket=BUCKET))[:2] == (
        "SignatureDoesNotMatch",
        403,
    )
    stranger = server.client(
        "s3", {"AccessKeyId": "HLNOBODY000000000000", "SecretAccessKey": "x" * 40}
    )
    assert error_of(lambda: stranger.list_objects_v2(Bucket=BUCKET))[:2] == (
        "InvalidAccessKeyId",
        403,
    )


def test_s3_output_store_reads_through_a_real_s3_api(server: LiveServer, s3: Any) -> None:
    """S3BlobStore against an S3-compatible endpoint: here, handloop's own S3 API."""
    key = server.default_key
    store = S3BlobStore.connect(server.url, "us-east-1", key["AccessKeyId"], key["SecretAccessKey"])
    path = "results/flow-b/2026/01/02/03/04/07/loop-3/output.json"
    assert json.loads(store.get(BUCKET, path)) == {"humanLoopName": "loop-3"}
    assert store.head(BUCKET, path).size == len(json.dumps({"humanLoopName": "loop-3"}))
    assert [b.key for b in store.list_objects(BUCKET, prefix="results/flow-b/")] == [path]
    with pytest.raises(BlobNotFound):
        store.get(BUCKET, "missing.json")
