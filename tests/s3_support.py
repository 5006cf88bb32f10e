"""Test support for S3 writes: raw requests signed as botocore signs them (for bodies boto3
does not send: corrupted, truncated, of signed chunks), aws-chunked bodies, and a TLS front
for a live server, as a reverse proxy puts handloop behind HTTPS (botocore sends
``aws-chunked`` bodies with a checksum trailer only over HTTPS)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import ipaddress
import ssl
import threading
import zlib
from pathlib import Path
from typing import Any

import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support import LiveServer

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def crc32(data: bytes) -> str:
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


class _Signer(S3SigV4Auth):
    """botocore's S3 signer, with the payload line the test chooses (``None``: the body's
    SHA-256, as botocore signs over HTTP)."""

    def __init__(self, credentials: Credentials, payload: str | None) -> None:
        super().__init__(credentials, "s3", "us-east-1")
        self._payload = payload

    def payload(self, request: AWSRequest) -> str:
        return self._payload if self._payload is not None else str(super().payload(request))


def signed_put(
    server: LiveServer,
    path: str,
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    payload: str | None = None,
    signed_body: bytes | None = None,
) -> tuple[httpx.Response, dict[str, str]]:
    """PUT ``body`` to ``path``, signed with the payload line ``payload`` (or the SHA-256 of
    ``signed_body``, else of ``body``); the response and the headers sent."""
    key = server.default_key
    request = AWSRequest(
        method="PUT",
        url=f"{server.url}{path}",
        data=body if signed_body is None else signed_body,
        headers=headers or {},
    )
    _Signer(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), payload).add_auth(request)
    sent = dict(request.headers.items())
    return httpx.put(f"{server.url}{path}", headers=sent, content=body, timeout=60), sent


def chunked(data: bytes, size: int = 64 * 1024, trailer: dict[str, str] | None = None) -> bytes:
    """``data`` aws-chunked (unsigned) in chunks of ``size``, then ``trailer``."""
    out = bytearray()
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n"
    for name, value in (trailer or {}).items():
        out += f"{name}:{value}\r\n".encode()
    return bytes(out + b"\r\n")


def signed_chunks(
    data: bytes,
    *,
    key: bytes,
    amz_date: str,
    scope: str,
    seed: str,
    size: int = 64 * 1024,
    trailer: dict[str, str] | None = None,
) -> bytes:
    """``data`` as a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER)`` body: each chunk signed,
    chained from ``seed``, as AWS's documentation describes (tests/test_api_s3_chunked.py
    checks this against its worked example)."""

    def sign(text: str) -> str:
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()

    out = bytearray()
    previous = seed
    pieces = [data[i : i + size] for i in range(0, len(data), size)] + [b""]
    for piece in pieces:
        previous = sign(
            f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n"
            + hashlib.sha256(piece).hexdigest()
        )
        out += f"{len(piece):x};chunk-signature={previous}\r\n".encode() + piece + b"\r\n"
    if trailer:
        out = out[:-2]  # the final chunk's CRLF is the trailer's start
        canonical = "".join(f"{name}:{value}\n" for name, value in trailer.items())
        for name, value in trailer.items():
            out += f"{name}:{value}\r\n".encode()
        signature = sign(
            f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n"
            + hashlib.sha256(canonical.encode()).hexdigest()
        )
        out += f"x-amz-trailer-signature:{signature}\r\n\r\n".encode()
    return bytes(out)


def signing_key(secret: str, date: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def s3_error(response: httpx.Response) -> tuple[int, str]:
    text = response.text
    code = text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else ""
    return response.status_code, code


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key: (cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert, key = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, key


class TlsFront:
    """HTTPS on a port of its own, each connection passed on to ``target_port`` as it is
    (a TLS-terminating proxy): the server sees the Host the client signed."""

    def __init__(self, target_port: int, cert: Path, key: Path) -> None:
        self.target_port = target_port
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert, key)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    def __enter__(self) -> TlsFront:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._context), self._loop
        ).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
            await asyncio.gather(
                self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
            )
        except OSError:
            writer.close()
        finally:
            self._tasks.discard(task)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(256 * 1024):
                target.write(data)
                await target.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            with contextlib.suppress(Exception):
                target.close()
