"""S3's errors, by code: S3 names many, each with its own HTTP status."""

from __future__ import annotations

from handloop.errors import HandloopError


class S3Error(HandloopError):
    """An error the S3 API answers with ``code`` and ``status`` (only S3 raises these)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def invalid_request(message: str) -> S3Error:
    return S3Error("InvalidRequest", message)


def invalid_argument(message: str) -> S3Error:
    return S3Error("InvalidArgument", message)
