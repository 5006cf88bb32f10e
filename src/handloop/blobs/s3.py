"""An S3-compatible endpoint as the output store (AWS S3, MinIO, Ceph, ...).

Writes through handloop's S3 API pass through: a PutObject is one PUT of the received
file, a multipart upload is one upstream (its parts, checksums and ETag are the
endpoint's), so several handloop processes can share uploads, as they share the store.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from handloop.blobs.base import (
    BlobInfo,
    BlobNotFound,
    BucketNotFound,
    ChecksumMismatch,
    NoSuchUpload,
    PartInfo,
    UploadInfo,
    UpstreamRefused,
)


@contextmanager
def _upstream(bucket: str, key: str = "", upload_id: str = "") -> Iterator[None]:
    """The endpoint's client errors as the store's: not found, or refused (4xx)."""
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
        if code == "NoSuchBucket":
            raise BucketNotFound(f"s3://{bucket}") from None
        if code == "NoSuchUpload":
            raise NoSuchUpload(upload_id) from None
        if code == "BadDigest" and upload_id:
            raise ChecksumMismatch(str(error.get("Message", ""))) from None
        if 400 <= status < 500:
            raise UpstreamRefused(code, str(error.get("Message", code)), status) from None
        raise


def _md5_header(etag: str) -> str:
    return base64.b64encode(bytes.fromhex(etag)).decode()


class S3BlobStore:
    """Objects in a real S3 API, through boto3. Each put is one PUT: atomic on S3."""

    def __init__(self, client: Any, staging: Path | None = None) -> None:
        self._s3 = client
        self._staging = staging

    @property
    def staging(self) -> Path:
        """Received bodies wait in a private temporary folder until they are sent on."""
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="handloop-staging-"))
        return self._staging

    @classmethod
    def connect(
        cls,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
    ) -> S3BlobStore:
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
        )
        return cls(client)

    def _missing(self, exc: Exception, bucket: str, key: str) -> BlobNotFound | None:
        """The not-found error an upstream error stands for, if it is one."""
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code == "NoSuchBucket":
            return BucketNotFound(f"s3://{bucket}")
        if code in ("NoSuchKey", "404", "NotFound"):
            return BlobNotFound(f"s3://{bucket}/{key}")
        return None

    def put(self, bucket: str, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        from botocore.exceptions import ClientError

        extra: dict[str, Any] = {"IfNoneMatch": "*"} if if_absent else {}
        try:
            self._s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=data,
                ContentType="application/json",
                ContentMD5=_md5_b64(data),
                **extra,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                return False
            raise
        return True

    def put_file(self, bucket: str, key: str, source: Path, *, etag: str) -> str:
        # One PUT (S3 takes up to 5 GiB in one), with the MD5 the endpoint checks again.
        try:
            with _upstream(bucket, key), open(source, "rb") as body:
                response = self._s3.put_object(
                    Bucket=bucket, Key=key, Body=body, ContentMD5=_md5_header(etag)
                )
        finally:
            source.unlink(missing_ok=True)
        return str(response["ETag"]).strip('"')

    def delete(self, bucket: str, key: str) -> None:
        with _upstream(bucket, key):
            self._s3.delete_object(Bucket=bucket, Key=key)

    def bucket_exists(self, bucket: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._s3.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise
        return True

    def create_bucket(self, bucket: str) -> bool:
        region = self._s3.meta.region_name
        extra: dict[str, Any] = (
            {"CreateBucketConfiguration": {"LocationConstraint": region}}
            if region and region != "us-east-1"
            else {}
        )
        try:
            with _upstream(bucket):
                self._s3.create_bucket(Bucket=bucket, **extra)
        except UpstreamRefused as exc:
            if exc.code == "BucketAlreadyOwnedByYou":
                return False
            raise
        return True

    def create_upload(
        self, bucket: str, key: str, checksum_algorithm: str, checksum_type: str
    ) -> str:
        extra: dict[str, Any] = {}
        if checksum_algorithm:
            extra["ChecksumAlgorithm"] = checksum_algorithm
            if checksum_type == "FULL_OBJECT" and checksum_algorithm != "CRC64NVME":
                extra["ChecksumType"] = checksum_type
        with _upstream(bucket, key):
            response = self._s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)
        return str(response["UploadId"])

    def upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        with _upstream(bucket, key, upload_id):
            response = self._s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=1)
        algorithm = str(response.get("ChecksumAlgorithm") or "")
        checksum_type = str(response.get("ChecksumType") or "")
        if algorithm and not checksum_type:
            checksum_type = "FULL_OBJECT" if algorithm == "CRC64NVME" else "COMPOSITE"
        return UploadInfo(bucket, key, upload_id, algorithm, checksum_type)

    def put_part(
        self, upload: UploadInfo, number: int, source: Path, *, etag: str, checksum: str
    ) -> str:
        extra: dict[str, Any] = {}
        if upload.checksum_algorithm and checksum:
            extra[f"Checksum{upload.checksum_algorithm}"] = checksum
        try:
            with _upstream(upload.bucket, upload.key, upload.upload_id), open(source, "rb") as body:
                response = self._s3.upload_part(
                    Bucket=upload.bucket,
                    Key=upload.key,
                    UploadId=upload.upload_id,
                    PartNumber=number,
                    Body=body,
                    ContentMD5=_md5_header(etag),
                    **extra,
                )
        finally:
            source.unlink(missing_ok=True)
        return str(response["ETag"]).strip('"')

    def parts(self, upload: UploadInfo) -> list[PartInfo]:
        found: list[PartInfo] = []
        member = f"Checksum{upload.checksum_algorithm}"
        with _upstream(upload.bucket, upload.key, upload.upload_id):
            pages = self._s3.get_paginator("list_parts").paginate(
                Bucket=upload.bucket, Key=upload.key, UploadId=upload.upload_id
            )
            for page in pages:
                found.extend(
                    PartInfo(
                        part["PartNumber"],
                        part["Size"],
                        str(part["ETag"]).strip('"'),
                        str(part.get(member) or ""),
                        part["LastModified"].timestamp(),
                    )
                    for part in page.get("Parts", [])
                )
        return found

    def complete_upload(
        self, upload: UploadInfo, parts: list[PartInfo], *, etag: str, checksum: str
    ) -> tuple[str, str]:
        member = f"Checksum{upload.checksum_algorithm}"
        listed = []
        for part in parts:
            entry: dict[str, Any] = {"PartNumber": part.number, "ETag": f'"{part.etag}"'}
            if upload.checksum_algorithm and part.checksum:
                entry[member] = part.checksum
            listed.append(entry)
        extra: dict[str, Any] = {}
        full = upload.checksum_type == "FULL_OBJECT"
        if full and checksum:
            extra = {member: checksum, "ChecksumType": "FULL_OBJECT"}
        with _upstream(upload.bucket, upload.key, upload.upload_id):
            response = self._s3.complete_multipart_upload(
                Bucket=upload.bucket,
                Key=upload.key,
                UploadId=upload.upload_id,
                MultipartUpload={"Parts": listed},
                **extra,
            )
        whole = str(response.get(member) or "") if full else ""
        return str(response["ETag"]).strip('"'), whole

    def abort_upload(self, upload: UploadInfo) -> None:
        with _upstream(upload.bucket, upload.key, upload.upload_id):
            self._s3.abort_multipart_upload(
                Bucket=upload.bucket, Key=upload.key, UploadId=upload.upload_id
            )

    def get(self, bucket: str, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            body: bytes = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            missing = self._missing(exc, bucket, key)
            if missing is not None:
                raise missing from None
            raise
        return body

    def get_range(self, bucket: str, key: str, first: int, last: int) -> bytes:
        from botocore.exceptions import ClientError

        try:
            response = self._s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-{last}")
        except ClientError as exc:
            missing = self._missing(exc, bucket, key)
            if missing is not None:
                raise missing from None
            raise
        body: bytes = response["Body"].read()
        return body

    def head(self, bucket: str, key: str) -> BlobInfo:
        from botocore.exceptions import ClientError

        try:
            meta = self._s3.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            missing = self._missing(exc, bucket, key)
            if missing is not None:
                raise missing from None
            raise
        return BlobInfo(
            bucket,
            key,
            meta["ContentLength"],
            meta["ETag"].strip('"'),
            meta["LastModified"].timestamp(),
        )

    def list_objects(
        self, bucket: str, prefix: str = "", start_after: str = "", max_keys: int = 1000
    ) -> list[BlobInfo]:
        from botocore.exceptions import ClientError

        try:
            page = self._s3.list_objects_v2(
                Bucket=bucket, Prefix=prefix, StartAfter=start_after, MaxKeys=max_keys
            )
        except ClientError as exc:
            missing = self._missing(exc, bucket, prefix)
            if isinstance(missing, BucketNotFound):
                raise missing from None
            if missing is not None:
                return []
            raise
        return [
            BlobInfo(
                bucket, o["Key"], o["Size"], o["ETag"].strip('"'), o["LastModified"].timestamp()
            )
            for o in page.get("Contents", [])
        ]


def _md5_b64(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.md5(data).digest()).decode()
