"""The output store interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class BlobNotFound(Exception):
    """No object at that bucket and key."""


class BucketNotFound(BlobNotFound):
    """No such bucket (an S3 store says so; in the local store every valid bucket exists,
    empty until an object is written to it)."""


@dataclass(frozen=True)
class BlobInfo:
    bucket: str
    key: str
    size: int
    etag: str
    last_modified: float  # epoch seconds


class BlobStore(Protocol):
    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Write atomically. With ``if_absent``, keep an existing object and return False."""
        ...

    def get(self, bucket: str, key: str) -> bytes:
        """The object's bytes, or BlobNotFound."""
        ...

    def head(self, bucket: str, key: str) -> BlobInfo:
        """The object's size, ETag and time, or BlobNotFound."""
        ...

    def list_objects(
        self, bucket: str, prefix: str = "", start_after: str = "", max_keys: int = 1000
    ) -> list[BlobInfo]:
        """Objects whose key starts with ``prefix``, after ``start_after``, in key order;
        BucketNotFound when the store knows the bucket does not exist."""
        ...
