"""The output store interface."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class BlobNotFound(Exception):
    """No object at that bucket and key."""


class BucketNotFound(BlobNotFound):
    """No such bucket (an S3 store says so; in the local store every valid bucket exists,
    empty until an object is written to it)."""


class NoSuchUpload(BlobNotFound):
    """No multipart upload with that id for that bucket and key (never made, completed or
    aborted)."""


class PartChanged(BlobNotFound):
    """A part was uploaded again while its upload was being completed."""


class KeyConflict(Exception):
    """An object that this store cannot hold beside another: in a folder, ``a`` cannot be
    a file and also the folder of ``a/b``."""


class ChecksumMismatch(Exception):
    """The checksum a client gave for a whole multipart object is not the object's."""


@dataclass(frozen=True)
class BlobInfo:
    bucket: str
    key: str
    size: int
    etag: str
    last_modified: float  # epoch seconds


@dataclass(frozen=True)
class UploadInfo:
    """A multipart upload in progress: what CreateMultipartUpload recorded."""

    bucket: str
    key: str
    upload_id: str
    checksum_algorithm: str  # S3's name (CRC32, SHA256, ...), or "" for none
    checksum_type: str  # COMPOSITE or FULL_OBJECT, or "" for none


@dataclass(frozen=True)
class PartInfo:
    number: int
    size: int
    etag: str  # the part's MD5, hex
    checksum: str  # base64, in the upload's checksum algorithm ("" for none)
    last_modified: float


class UpstreamRefused(Exception):
    """An S3-compatible store refused a write with a client error (4xx): its code and
    message are the answer, as if the client had called it."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class BlobStore(Protocol):
    @property
    def staging(self) -> Path:
        """A folder for request bodies on their way into the store: on the local store's
        file system, so that a finished body is renamed into place, not copied."""
        ...

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Write atomically. With ``if_absent``, keep an existing object and return False."""
        ...

    def put_file(self, bucket: str, key: str, source: Path, *, etag: str) -> str:
        """Make the finished file ``source`` (in ``staging``; taken over) the object,
        atomically; ``etag`` is its MD5. The object's ETag as the store has it."""
        ...

    def get(self, bucket: str, key: str) -> bytes:
        """The object's bytes, or BlobNotFound."""
        ...

    def get_range(self, bucket: str, key: str, first: int, last: int) -> bytes:
        """Bytes ``first`` to ``last`` (included) of the object, or BlobNotFound."""
        ...

    def head(self, bucket: str, key: str) -> BlobInfo:
        """The object's size, ETag and time, or BlobNotFound."""
        ...

    def delete(self, bucket: str, key: str) -> None:
        """Remove the object; nothing happens if there is none (as S3's DeleteObject)."""
        ...

    def list_objects(
        self, bucket: str, prefix: str = "", start_after: str = "", max_keys: int = 1000
    ) -> list[BlobInfo]:
        """Objects whose key starts with ``prefix``, after ``start_after``, in key order;
        BucketNotFound when the store knows the bucket does not exist."""
        ...

    def bucket_exists(self, bucket: str) -> bool: ...

    def create_bucket(self, bucket: str) -> bool:
        """Make the bucket; False if it existed already."""
        ...

    def create_upload(
        self, bucket: str, key: str, checksum_algorithm: str, checksum_type: str
    ) -> str:
        """Start a multipart upload; its id."""
        ...

    def upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        """The upload in progress, or NoSuchUpload."""
        ...

    def put_part(
        self, upload: UploadInfo, number: int, source: Path, *, etag: str, checksum: str
    ) -> str:
        """Store (or replace) part ``number`` from the finished file ``source`` (taken
        over); ``etag`` is its MD5, ``checksum`` its checksum in the upload's algorithm.
        The part's ETag as the store has it."""
        ...

    def parts(self, upload: UploadInfo) -> list[PartInfo]:
        """The upload's parts, by number."""
        ...

    def complete_upload(
        self, upload: UploadInfo, parts: list[PartInfo], *, etag: str, checksum: str
    ) -> tuple[str, str]:
        """Make the object of ``parts`` (checked by the caller: they are the upload's, in
        order) at once and end the upload. ``etag`` is S3's multipart ETag for them; for a
        FULL_OBJECT checksum, ``checksum`` is what the client says the whole object has
        (ChecksumMismatch if not; "" when it says nothing). The object's ETag and, for a
        FULL_OBJECT checksum, the whole object's checksum."""
        ...

    def abort_upload(self, upload: UploadInfo) -> None:
        """End the upload and remove its parts."""
        ...
