"""Test support for OIDC sign-in: a certificate authority the tests make, the real provider
(``tests/oidc/provider.mjs``, panva's oidc-provider run by Node) over TLS on a loopback
port, and a small TLS stub that plays a provider's token, JWKS and userinfo endpoints with
tokens the tests craft (signed by a key the tests hold), for what no honest provider sends.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import select
import shutil
import ssl
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PROVIDER_DIR = Path(__file__).parent / "oidc"
PROVIDER_SCRIPT = PROVIDER_DIR / "provider.mjs"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@dataclass
class Certificates:
    """A CA made for one test module and a server certificate it signed for 127.0.0.1 and
    localhost, as PEM files in ``folder``."""

    folder: Path

    def __post_init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca = (
            x509.CertificateBuilder()
            .subject_name(_name("handloop test CA"))
            .issuer_name(_name("handloop test CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name("127.0.0.1"))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        x509.DNSName("localhost"),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.folder.mkdir(parents=True, exist_ok=True)
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def cert_file(self) -> Path:
        return self.folder / "server.pem"

    @property
    def key_file(self) -> Path:
        return self.folder / "server-key.pem"

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@dataclass
class ProviderUser:
    username: str
    password: str
    sub: str
    email: str
    # A list, or one string (A2I accepts a single group as a string).
    groups: list[str] | str


CLIENT_ID = "handloop-portal"
CLIENT_SECRET = "test-client-secret-0123456789"


@dataclass
class Provider:
    """``tests/oidc/provider.mjs`` run by Node on a loopback port of its choosing, over TLS."""

    folder: Path
    certificates: Certificates
    users: list[ProviderUser]
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    process: subprocess.Popen[str] | None = None
    # https://127.0.0.1:<port>, the port the provider's own listen picked; set by start().
    issuer: str = ""

    def start(self) -> Provider:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("the OIDC tests need Node.js (Debian: apt-get install nodejs)")
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            raise RuntimeError(
                "the OIDC tests need the test provider's packages: "
                "npm ci --prefix tests/oidc (make test does it)"
            )
        config = {
            "cert": str(self.certificates.cert_file),
            "key": str(self.certificates.key_file),
            "client": {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": self.redirect_uris,
                "post_logout_redirect_uris": self.post_logout_redirect_uris,
            },
            "users": [vars(user) for user in self.users],
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        config_file = self.folder / "provider.json"
        config_file.write_text(json.dumps(config))
        # A provider that neither says where it listens nor dies within a minute (seen once
        # on a loaded machine) is killed and started again, up to three times.
        for _attempt in range(3):
            log = open(self.folder / "provider.log", "w")  # noqa: SIM115
            self.process = subprocess.Popen(
                [node, str(PROVIDER_SCRIPT), str(config_file)],
                cwd=PROVIDER_DIR,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, "NODE_ENV": "test"},
            )
            log.close()
            assert self.process.stdout is not None
            ready, _, _ = select.select([self.process.stdout], [], [], 60)
            if not ready:
                self.stop()
                continue
            line = self.process.stdout.readline()  # the script's one line, or EOF if it died
            if not line.startswith("listening "):
                self.stop()
                raise RuntimeError(
                    "the test provider did not start: " + (self.folder / "provider.log").read_text()
                )
            self.issuer = line.split()[1]
            return self
        raise RuntimeError(
            "the test provider said nothing in a minute, three times: "
            + (self.folder / "provider.log").read_text()
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None

    def oidc_config(self, **overrides: Any) -> dict[str, Any]:
        """The workforce's OidcConfig for this provider (its discovery document's URLs)."""
        config = {
            "ClientId": CLIENT_ID,
            "ClientSecret": CLIENT_SECRET,
            "Issuer": self.issuer,
            "AuthorizationEndpoint": f"{self.issuer}/auth",
            "TokenEndpoint": f"{self.issuer}/token",
            "UserInfoEndpoint": f"{self.issuer}/me",
            "LogoutEndpoint": f"{self.issuer}/session/end",
            "JwksUri": f"{self.issuer}/jwks",
            "Scope": "openid email",
        }
        config.update(overrides)
        return config


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenStub:
    """A provider's token, JWKS and userinfo endpoints, over TLS, answering what the test
    sets: the ID token ``id_token`` (crafted with ``sign``), the userinfo ``userinfo`` (by
    default the ID token's subject), or a status and body of its choosing per path.
    Requests to the token endpoint are kept in ``token_requests``."""

    KID = "stub-key"

    def __init__(self, certificates: Certificates) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.id_token = ""
        self.userinfo: dict[str, Any] | None = None
        # (status, body) answered instead of the usual, per path.
        self.broken: dict[str, tuple[int, bytes]] = {}
        self.token_requests: list[dict[str, list[str]]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self.path = self.path.split("?")[0]  # a query only makes a URL a new one
                if self.path in stub.broken:
                    self._answer(*stub.broken[self.path])
                elif self.path == "/jwks":
                    self._answer(200, json.dumps(stub.jwks()).encode())
                elif self.path == "/userinfo":
                    self._answer(200, json.dumps(stub.userinfo_answer()).encode())
                else:
                    self._answer(404, b"{}")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                if self.path == "/token":
                    stub.token_requests.append(form)
                if self.path in stub.broken:
                    self._answer(*stub.broken[self.path])
                elif self.path == "/token":
                    body = {"access_token": "stub-access", "token_type": "Bearer"}
                    body["id_token"] = stub.id_token
                    self._answer(200, json.dumps(body).encode())
                else:
                    self._answer(404, b"{}")

        # Port 0: the system picks a free one as it binds.
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = certificates.server_context()
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def userinfo_answer(self) -> dict[str, Any]:
        """What the test set, else the ID token's subject, as an honest provider answers."""
        if self.userinfo is not None:
            return self.userinfo
        claims = jwt.decode(self.id_token, options={"verify_signature": False})
        return {"sub": claims.get("sub")}

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.KID, "use": "sig", "alg": "RS256"}]}

    def sign(self, claims: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.KID})

    @staticmethod
    def tamper(token: str, **changes: Any) -> str:
        """``token`` with its payload changed and its signature kept (so no longer valid)."""
        header, payload, signature = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims.update(changes)
        return ".".join([header, _b64(json.dumps(claims).encode()), signature])

    @staticmethod
    def unsigned(claims: dict[str, Any]) -> str:
        """A token with ``alg: none`` and no signature."""
        header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        return f"{header}.{_b64(json.dumps(claims).encode())}."
