"""An S3-compatible endpoint as the output store (AWS S3, MinIO, Ceph, ...)."""

from __future__ import annotations

import hashlib
from typing import Any

from handloop.blobs.base import BlobInfo, BlobNotFound, BucketNotFound


class S3BlobStore:
    """Objects in a real S3 API, through boto3. Each put is one PUT: atomic on S3."""

    def __init__(self, client: Any) -> None:
        self._s3 = client

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
