"""S3's ``aws-chunked`` content encoding, decoded as it arrives.

A body so encoded is a run of chunks, each ``<size in hex>[;chunk-signature=<sig>]\\r\\n``,
the data, ``\\r\\n``; then an empty chunk, trailing headers (``name:value\\r\\n``, such as
``x-amz-checksum-crc32``, which a client computes while it sends) and an empty line.
botocore sends it (unsigned, with a checksum trailer) over HTTPS. Other SDKs sign every
chunk (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``), each signature chained from the one before,
and then the trailer too; those are checked here, chunk by chunk.

The decoder is fed whatever the connection delivers and gives back the data; it keeps at
most one header line (or the trailer) in memory, so a body of any size streams through.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from handloop.errors import AuthError
from handloop.protocols.s3_errors import S3Error
from handloop.protocols.sigv4 import ChunkSigning

_HEADER_LINE = re.compile(rb"^([0-9a-fA-F]{1,16})(?:;chunk-signature=([0-9a-f]{64}))?$")
MAX_HEADER_LINE = 256
MAX_TRAILER_BYTES = 16 * 1024
TRAILER_SIGNATURE = "x-amz-trailer-signature"

_HEADER, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


def _malformed(detail: str) -> S3Error:
    return S3Error("IncompleteBody", f"The aws-chunked request body is malformed: {detail}.")


def _bad_trailer(detail: str) -> S3Error:
    return S3Error(
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to "
        f"our published schema: {detail}.",
    )


def _signature_mismatch(what: str) -> AuthError:
    return AuthError(
        "signature",
        f"The {what} signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method.",
    )


class AwsChunkedDecoder:
    """One aws-chunked body. ``feed`` it the bytes as they come, then ``finish``; the
    trailing headers are in ``trailers`` (lowercase names) once it is done."""

    def __init__(self, signing: ChunkSigning | None = None) -> None:
        self._signing = signing
        self._previous = signing.seed if signing else ""
        self._buffer = bytearray()
        self._state = _HEADER
        self._remaining = 0
        self._chunk_signature: str | None = None
        self._chunk_hash = hashlib.sha256()
        self._trailer_lines: list[tuple[str, str]] = []
        self._trailer_bytes = 0
        self.trailers: dict[str, str] = {}

    def feed(self, data: bytes) -> list[bytes]:
        """The decoded data in ``data`` (and what was left over before it)."""
        out: list[bytes] = []
        if self._state == _DATA and not self._buffer and len(data) <= self._remaining:
            self._take(data, out)  # the common case: the middle of a large chunk
            return out
        self._buffer += data
        while self._buffer:
            if self._state == _DATA:
                take = min(self._remaining, len(self._buffer))
                piece = bytes(self._buffer[:take])
                del self._buffer[:take]
                self._take(piece, out)
            elif self._state == _DATA_END:
                if len(self._buffer) < 2:
                    break
                if self._buffer[:2] != b"\r\n":
                    raise _malformed("a chunk's data does not end where its size says")
                del self._buffer[:2]
                self._end_chunk()
                self._state = _HEADER
            elif self._state in (_HEADER, _TRAILER):
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    self._check_partial_line()
                    break
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 2]
                if self._state == _HEADER:
                    self._header(line)
                else:
                    self._trailer(line)
            else:
                raise _malformed("data follows the final chunk")
        return out

    def finish(self) -> None:
        """The body has ended: it must have ended where the encoding does."""
        if self._state == _TRAILER:
            # Some clients leave out the last CRLF (or the empty line) of the trailer.
            if self._buffer:
                self._trailer(bytes(self._buffer))
                self._buffer.clear()
            self._end_trailer()
        if self._state != _DONE:
            raise S3Error(
                "IncompleteBody",
                "The request body ended before the final (empty) aws-chunked chunk.",
            )

    def _take(self, piece: bytes, out: list[bytes]) -> None:
        if self._signing is not None:
            self._chunk_hash.update(piece)
        out.append(piece)
        self._remaining -= len(piece)
        if self._remaining == 0:
            self._state = _DATA_END

    def _check_partial_line(self) -> None:
        if self._state == _HEADER and len(self._buffer) > MAX_HEADER_LINE:
            raise _malformed("a chunk header line is too long")
        if self._state == _TRAILER and self._trailer_bytes + len(self._buffer) > MAX_TRAILER_BYTES:
            raise _bad_trailer("the trailer is too long")

    def _header(self, line: bytes) -> None:
        match = _HEADER_LINE.match(line)
        if match is None:
            shown = line[:80].decode("latin-1")
            raise _malformed(f"'{shown}' is not a chunk header (<hex size>[;chunk-signature=…])")
        size = int(match[1], 16)
        self._chunk_signature = match[2].decode() if match[2] else None
        if size == 0:
            self._end_chunk()
            self._state = _TRAILER
        else:
            self._remaining = size
            self._state = _DATA

    def _end_chunk(self) -> None:
        """A chunk's data is all in: check its signature, if the body is signed."""
        if self._signing is None:
            return
        if self._chunk_signature is None:
            raise _signature_mismatch("chunk")  # a signed body's chunks must all be signed
        expected = self._signing.chunk(self._previous, self._chunk_hash.hexdigest())
        if not hmac.compare_digest(expected, self._chunk_signature):
            raise _signature_mismatch("chunk")
        self._previous = expected
        self._chunk_hash = hashlib.sha256()

    def _trailer(self, line: bytes) -> None:
        if not line:
            self._end_trailer()
            return
        self._trailer_bytes += len(line) + 2
        if self._trailer_bytes > MAX_TRAILER_BYTES:
            raise _bad_trailer("the trailer is too long")
        name, colon, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if not colon or not name:
            raise _bad_trailer(f"'{line[:80].decode('latin-1')}' is not a name:value line")
        self._trailer_lines.append((name, value.strip()))

    def _end_trailer(self) -> None:
        signature = None
        canonical = []
        for name, value in self._trailer_lines:
            if name == TRAILER_SIGNATURE:
                signature = value
            else:
                if name in self.trailers:
                    raise _bad_trailer(f"'{name}' is given twice")
                self.trailers[name] = value
                canonical.append(f"{name}:{value}\n")
        if self._signing is not None and self.trailers:
            if signature is None:
                raise _signature_mismatch("trailer")
            digest = hashlib.sha256("".join(canonical).encode("latin-1")).hexdigest()
            expected = self._signing.trailer(self._previous, digest)
            if not hmac.compare_digest(expected, signature):
                raise _signature_mismatch("trailer")
        self._state = _DONE
