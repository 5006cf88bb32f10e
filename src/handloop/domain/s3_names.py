"""S3's rules for bucket names and object keys, and what handloop's output store can hold.

Every place that takes a bucket or a key checks through here: the S3 API, the local output
store, ``CreateFlowDefinition``'s ``S3OutputPath`` and the ``s3://`` URIs of output files.
So a path that passes one door can always be written, read and listed later.

Buckets follow AWS's rules for general purpose buckets. Keys follow S3's (1 to 1,024 bytes
of UTF-8) and, because outputs may live in a local folder, never hold an empty, ``.`` or
``..`` segment or a NUL: such a key could not be a file, or would name one elsewhere.
"""

from __future__ import annotations

import re

from handloop.errors import ValidationError

MIN_BUCKET_LENGTH = 3
MAX_BUCKET_LENGTH = 63
MAX_KEY_BYTES = 1024

_BUCKET_CHARACTERS = re.compile(r"^[a-z0-9.\-]+$")
_IP_ADDRESS_SHAPE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
# AWS reserves these for its own names (access point aliases, Multi-Region Access Points,
# directory and table buckets, internal use, documentation examples).
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


class InvalidBucketName(ValidationError):
    """A bucket name S3 does not allow: ``InvalidBucketName`` on the S3 API."""

    def code_for(self, service: str) -> tuple[str, int]:
        if service == "s3":
            return "InvalidBucketName", 400
        return super().code_for(service)


class InvalidKey(ValidationError):
    """A key no object can have here. On the S3 API such an object does not exist
    (``NoSuchKey``), except a key over S3's length limit (``KeyTooLongError``)."""

    def __init__(self, message: str, *, too_long: bool = False) -> None:
        super().__init__(message)
        self.too_long = too_long

    def code_for(self, service: str) -> tuple[str, int]:
        if service == "s3":
            return ("KeyTooLongError", 400) if self.too_long else ("NoSuchKey", 404)
        return super().code_for(service)


def _shown(text: str, limit: int = 80) -> str:
    """``text`` fit for an error message, whatever it holds."""
    try:
        text.encode("utf-8")
        safe = text.isprintable()
    except UnicodeEncodeError:
        safe = False
    shown = text if safe else ascii(text)[1:-1]
    return shown if len(shown) <= limit else shown[:limit] + "..."


def check_bucket(name: str, what: str = "Bucket name") -> str:
    """``name`` if it is a valid S3 bucket name; else InvalidBucketName saying which rule
    it breaks."""
    problem = None
    if not MIN_BUCKET_LENGTH <= len(name) <= MAX_BUCKET_LENGTH:
        problem = f"must be {MIN_BUCKET_LENGTH} to {MAX_BUCKET_LENGTH} characters long"
    elif not _BUCKET_CHARACTERS.match(name):
        problem = "may hold only lowercase letters, digits, dots and hyphens"
    elif not (name[0].isalnum() and name[-1].isalnum()):
        problem = "must begin and end with a letter or a digit"
    elif ".." in name:
        problem = "must not hold two adjacent dots"
    elif _IP_ADDRESS_SHAPE.match(name):
        problem = "must not be formatted as an IP address"
    elif name.startswith(_RESERVED_PREFIXES):
        problem = "must not start with " + ", ".join(_RESERVED_PREFIXES) + " (reserved by AWS)"
    elif name.endswith(_RESERVED_SUFFIXES):
        problem = "must not end with " + ", ".join(_RESERVED_SUFFIXES) + " (reserved by AWS)"
    if problem is not None:
        raise InvalidBucketName(f"{what} '{_shown(name)}' is not valid: a bucket name {problem}.")
    return name


def check_key(key: str, what: str = "Key") -> str:
    """``key`` if an object can have it here; else InvalidKey saying why."""
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidKey(f"{what} '{_shown(key)}' is not valid Unicode.") from None
    if size == 0:
        raise InvalidKey(f"{what} must not be empty.")
    if size > MAX_KEY_BYTES:
        raise InvalidKey(
            f"{what} '{_shown(key)}' is {size} bytes long; S3 allows at most {MAX_KEY_BYTES}.",
            too_long=True,
        )
    if "\x00" in key:
        raise InvalidKey(f"{what} '{_shown(key)}' contains a NUL character.")
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        raise InvalidKey(
            f"{what} '{_shown(key)}' has an empty, '.' or '..' segment between slashes, "
            "which handloop's output store cannot hold."
        )
    return key


def split_uri(uri: str, what: str = "S3 URI", *, key_required: bool = True) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key), both checked. Without ``key_required``,
    ``s3://bucket`` (key ``""``) passes too, for a location under which keys are made."""
    if not uri.startswith("s3://"):
        raise ValidationError(f"{what} '{_shown(uri)}' is not an s3:// URI.")
    bucket, slash, key = uri[len("s3://") :].partition("/")
    # "The output URI" reads "the output URI" mid-sentence; "S3 URI" stays as it is.
    inner = what if what[1:2].isupper() else what[:1].lower() + what[1:]
    check_bucket(bucket, f"The bucket of {inner}")
    if key or key_required:
        if not slash and key_required:
            raise ValidationError(f"{what} '{_shown(uri)}' names no object (s3://bucket/key).")
        check_key(key, f"The key of {inner}")
    return bucket, key
