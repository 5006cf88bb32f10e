"""Where a human loop's output file lives: A2I's key layout, fixed by the creation time."""

from __future__ import annotations

from datetime import UTC, datetime

from handloop.domain import s3_names


def output_uri(s3_output_path: str, flow_name: str, loop_name: str, created_us: int) -> str:
    """``{S3OutputPath}/{flow}/{YYYY}/{MM}/{DD}/{hh}/{mm}/{ss}/{loop}/output.json``."""
    stamp = datetime.fromtimestamp(created_us / 1_000_000, tz=UTC).strftime("%Y/%m/%d/%H/%M/%S")
    return f"{s3_output_path.rstrip('/')}/{flow_name}/{stamp}/{loop_name}/output.json"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key), checked by S3's rules (ValidationException)."""
    return s3_names.split_uri(uri, "The output URI")
