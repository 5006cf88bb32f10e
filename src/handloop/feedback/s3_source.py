"""An S3 prefix as a source, through boto3 (standard AWS configuration, or --endpoint-url)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from handloop.feedback.output_files import is_output_name
from handloop.feedback.problems import ExportInputError


@dataclass
class S3Source:
    """Every ``output.json`` under ``s3://bucket/prefix`` (or every key whose last part
    ``wanted`` accepts)."""

    client: Any
    bucket: str
    prefix: str
    description: str = ""
    wanted: Callable[[str], bool] = is_output_name
    _found: list[str] | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        uri: str,
        *,
        endpoint_url: str | None = None,
        wanted: Callable[[str], bool] = is_output_name,
    ) -> S3Source:
        import boto3

        bucket, _, prefix = uri[5:].partition("/")
        if not bucket:
            raise ExportInputError(f"'{uri}' names no bucket (s3://bucket/prefix)")
        client = boto3.client("s3", endpoint_url=endpoint_url)
        return cls(client=client, bucket=bucket, prefix=prefix, description=uri, wanted=wanted)

    def locations(self) -> list[str]:
        if self._found is None:
            from botocore.exceptions import BotoCoreError, ClientError

            found: list[str] = []
            try:
                paginator = self.client.get_paginator("list_objects_v2")
                for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                    for obj in page.get("Contents", []):
                        key = obj["Key"]
                        if self.wanted(key.rpartition("/")[2]):
                            found.append(f"s3://{self.bucket}/{key}")
            except (BotoCoreError, ClientError) as exc:
                raise ExportInputError(f"cannot list {self.description}: {exc}") from None
            self._found = found
        return self._found

    def narrowed(self, wanted: Callable[[str], bool]) -> S3Source:
        """The same prefix with only the files ``wanted`` accepts, without listing again."""
        found = [uri for uri in self.locations() if wanted(uri.rpartition("/")[2])]
        return replace(self, wanted=wanted, _found=found)

    def read(self, location: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        key = location[len(f"s3://{self.bucket}/") :]
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise OSError(f"{location}: {exc}") from None
        return body

    def provenance(self) -> list[dict[str, Any]]:
        return []

    def parallel_reader(self) -> None:
        return None  # boto3 clients stay in the process that made them
