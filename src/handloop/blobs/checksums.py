"""S3's additional checksums (``x-amz-checksum-<algorithm>``): the algorithms, and the
checksum of a multipart object made from its parts' checksums.

The CRCs S3 adds beyond zlib's CRC32 (CRC32C, CRC64NVME) and the XXHash family come from
awscrt, the library botocore itself computes them with (``botocore[crt]``), so what the
server checks is what the client computed, bit for bit; the rest come from hashlib.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Callable, Sequence
from typing import Protocol

from awscrt import checksums as crt


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A running CRC: ``function(data, previous)`` as zlib and awscrt have it."""

    __slots__ = ("_function", "_size", "_value")

    def __init__(self, function: Callable[[bytes, int], int], size: int) -> None:
        self._function = function
        self._size = size
        self._value = 0

    def update(self, data: bytes, /) -> None:
        self._value = self._function(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._size, "big")


class _XXHash:
    __slots__ = ("_hash",)

    def __init__(self, new: Callable[[], crt.XXHash]) -> None:
        self._hash = new()

    def update(self, data: bytes, /) -> None:
        self._hash.update(data)

    def digest(self) -> bytes:
        return bytes(self._hash.finalize())


# Every value of S3's ChecksumAlgorithm, with what computes it.
ALGORITHMS: dict[str, Callable[[], Hasher]] = {
    "CRC32": lambda: _Crc(zlib.crc32, 4),
    "CRC32C": lambda: _Crc(crt.crc32c, 4),
    "CRC64NVME": lambda: _Crc(crt.crc64nvme, 8),
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
    "MD5": hashlib.md5,
    "XXHASH64": lambda: _XXHash(crt.XXHash.new_xxhash64),
    "XXHASH3": lambda: _XXHash(crt.XXHash.new_xxhash3_64),
    "XXHASH128": lambda: _XXHash(crt.XXHash.new_xxhash3_128),
}
DIGEST_SIZES = {
    "CRC32": 4,
    "CRC32C": 4,
    "CRC64NVME": 8,
    "SHA1": 20,
    "SHA256": 32,
    "SHA512": 64,
    "MD5": 16,
    "XXHASH64": 8,
    "XXHASH3": 8,
    "XXHASH128": 16,
}
CRCS = frozenset({"CRC32", "CRC32C", "CRC64NVME"})
HEADER_PREFIX = "x-amz-checksum-"


def header(algorithm: str) -> str:
    """The header (and trailer) that carries ``algorithm``'s checksum."""
    return HEADER_PREFIX + algorithm.lower()


def algorithm_of_header(name: str) -> str | None:
    """``CRC32`` for ``x-amz-checksum-crc32``; None for a name that is no checksum's."""
    if not name.startswith(HEADER_PREFIX):
        return None
    algorithm = name[len(HEADER_PREFIX) :].upper()
    return algorithm if algorithm in ALGORITHMS else None


def decode(algorithm: str, value: str) -> bytes | None:
    """The digest a base64 checksum value stands for; None if it is not one of
    ``algorithm``'s (not base64, or not its length)."""
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return digest if len(digest) == DIGEST_SIZES[algorithm] else None


def encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def composite(algorithm: str, part_digests: Sequence[bytes]) -> str:
    """A multipart object's COMPOSITE checksum, as S3 gives it: the checksum of the parts'
    checksums one after the other, then ``-<number of parts>``."""
    hasher = ALGORITHMS[algorithm]()
    for digest in part_digests:
        hasher.update(digest)
    return f"{encode(hasher.digest())}-{len(part_digests)}"
