"""Output stores: where output files live, addressed by ``s3://bucket/key`` URIs.

The local folder store is the default (``s3://bucket/key`` -> ``<data-dir>/s3/bucket/key``);
an S3-compatible endpoint can replace it. Writes are atomic: a reader sees the whole old
object or the whole new one, never a part.
"""

from handloop.blobs import checksums
from handloop.blobs.base import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BucketNotFound,
    ChecksumMismatch,
    KeyConflict,
    NoSuchUpload,
    PartChanged,
    PartInfo,
    UploadInfo,
    UpstreamRefused,
)
from handloop.blobs.local import LocalBlobStore
from handloop.blobs.s3 import S3BlobStore

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "BucketNotFound",
    "ChecksumMismatch",
    "KeyConflict",
    "LocalBlobStore",
    "NoSuchUpload",
    "PartChanged",
    "PartInfo",
    "S3BlobStore",
    "UploadInfo",
    "UpstreamRefused",
    "checksums",
]
