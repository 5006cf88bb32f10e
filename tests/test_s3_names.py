"""S3's bucket and key rules, written once (handloop.domain.s3_names)."""

from __future__ import annotations

import pytest

from handloop.blobs import LocalBlobStore
from handloop.domain import s3_names
from handloop.errors import ValidationError

GOOD_BUCKETS = ["abc", "a" * 63, "review-bucket", "my.bucket.name", "0bucket9", "a-b.c-d"]

BAD_BUCKETS = [
    ("", "3 to 63"),
    ("ab", "3 to 63"),
    ("a" * 64, "3 to 63"),
    ("..", "3 to 63"),
    ("...", "begin and end"),
    ("UPPER", "lowercase"),
    ("under_score", "lowercase"),
    ("spa ce", "lowercase"),
    ("caf\u00e9", "lowercase"),
    ("bad\ud800", "lowercase"),
    ("-abc", "begin and end"),
    ("abc-", "begin and end"),
    (".abc", "begin and end"),
    ("abc.", "begin and end"),
    ("ab..cd", "two adjacent dots"),
    ("192.168.5.4", "IP address"),
    ("1.2.3.4", "IP address"),
    ("xn--abc", "xn--"),
    ("sthree-abc", "sthree-"),
    ("amzn-s3-demo-bucket", "amzn-s3-demo-"),
    ("abc-s3alias", "-s3alias"),
    ("abc--ol-s3", "--ol-s3"),
    ("abc.mrap", ".mrap"),
    ("abc--x-s3", "--x-s3"),
    ("abc--table-s3", "--table-s3"),
]


@pytest.mark.parametrize("name", GOOD_BUCKETS)
def test_good_buckets(name: str) -> None:
    assert s3_names.check_bucket(name) == name


@pytest.mark.parametrize(("name", "rule"), BAD_BUCKETS, ids=[repr(b[0])[:20] for b in BAD_BUCKETS])
def test_bad_buckets(name: str, rule: str) -> None:
    with pytest.raises(s3_names.InvalidBucketName, match="not valid") as info:
        s3_names.check_bucket(name)
    assert rule in info.value.message
    assert info.value.code_for("s3") == ("InvalidBucketName", 400)
    assert info.value.code_for("sagemaker") == ("ValidationException", 400)
    info.value.message.encode("utf-8")  # fit for any response, whatever the name held


GOOD_KEYS = [
    "a",
    "a/b/c.json",
    "x y+z.json",
    "é/ü.json",
    "k" * 1024,
    "é" * 512,
    "a.b/..c/d..",
    ".x",
]

BAD_KEYS = [
    ("", "empty", False),
    ("k" * 1025, "1025 bytes", True),
    ("é" * 513, "1026 bytes", True),
    ("a//b", "segment", False),
    ("/a", "segment", False),
    ("a/", "segment", False),
    ("a/./b", "segment", False),
    ("../etc/passwd", "segment", False),
    ("a/..", "segment", False),
    (".", "segment", False),
    ("a\x00b", "NUL", False),
    ("a\udc80", "not valid Unicode", False),
]


@pytest.mark.parametrize("key", GOOD_KEYS, ids=lambda k: k[:20])
def test_good_keys(key: str) -> None:
    assert s3_names.check_key(key) == key


@pytest.mark.parametrize(
    ("key", "problem", "too_long"), BAD_KEYS, ids=[b[1] + repr(b[0])[:12] for b in BAD_KEYS]
)
def test_bad_keys(key: str, problem: str, too_long: bool) -> None:
    with pytest.raises(s3_names.InvalidKey) as info:
        s3_names.check_key(key)
    assert problem in info.value.message
    expected = ("KeyTooLongError", 400) if too_long else ("NoSuchKey", 404)
    assert info.value.code_for("s3") == expected
    assert info.value.code_for("sagemaker") == ("ValidationException", 400)
    info.value.message.encode("utf-8")


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("s3://bucket/key", ("bucket", "key")),
        ("s3://bucket/a/b.json", ("bucket", "a/b.json")),
    ],
)
def test_split_uri(uri: str, parts: tuple[str, str]) -> None:
    assert s3_names.split_uri(uri) == parts


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("https://bucket/key", "not an s3:// URI"),
        ("s3://bucket", "names no object"),
        ("s3://bucket/", "empty"),
        ("s3:///key", "3 to 63"),
        ("s3://Bucket/key", "lowercase"),
        ("s3://bucket//key", "segment"),
    ],
)
def test_split_uri_refuses(uri: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        s3_names.split_uri(uri, "The URI")


def test_split_uri_for_a_location() -> None:
    assert s3_names.split_uri("s3://bucket", key_required=False) == ("bucket", "")
    assert s3_names.split_uri("s3://bucket/pre/fix", key_required=False) == ("bucket", "pre/fix")
    with pytest.raises(ValidationError, match="segment"):
        s3_names.split_uri("s3://bucket/pre//fix", key_required=False)


def test_local_store_keeps_to_its_folder(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path)) / "data" / "s3"
    store = LocalBlobStore(root)
    store.put("abc-bucket", "a/b.json", b"{}")
    (root.parent / "deployment.key").write_bytes(b"secret")
    for bucket in ("..", ".", "UPPER", "a..b", "ab"):
        with pytest.raises(ValueError):
            store.list_objects(bucket)
        with pytest.raises(ValueError):
            store.put(bucket, "x.json", b"{}")
    for key in ("../deployment.key", "a//b.json", "a/./b.json", "a\x00"):
        with pytest.raises(ValueError):
            store.put("abc-bucket", key, b"{}")
    assert [b.key for b in store.list_objects("abc-bucket")] == ["a/b.json"]
    assert store.list_objects("never-written") == []
